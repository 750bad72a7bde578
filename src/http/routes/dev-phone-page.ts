import type { FastifyInstance } from 'fastify';

/**
 * Development only: the local "phone & inbox" page at `/dev/phone`. One self-contained HTML page (inline
 * CSS, no external resource) and its script at `/dev/phone/app.js` (the CSP allows no inline script). It
 * polls `/dev/phone/api/entries` every second and shows SMS threads and calls per number and the emails;
 * a ringing call can be answered (or left to the voicemail, or answered so that detection cannot tell), then
 * keys typed on a keypad and hung up.
 * French by default, English with `?lang=en`.
 */
export async function devPhonePage(app: FastifyInstance): Promise<void> {
  app.get('/dev/phone', { schema: { hide: true } }, async (req, reply) => {
    const { lang } = (req.query ?? {}) as { lang?: unknown };
    const en = lang === 'en';
    return reply
      .header('cache-control', 'no-store')
      .type('text/html; charset=utf-8')
      .send(pageHtml(en ? 'en' : 'fr'));
  });
  app.get('/dev/phone/app.js', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('cache-control', 'no-store').type('text/javascript; charset=utf-8').send(APP_JS),
  );
}

const TEXT = {
  fr: {
    title: 'Téléphone & boîte de réception',
    note: 'Développement : rien n’est envoyé. Chaque SMS, appel et e-mail arrive ici.',
    calls: 'Appels',
    sms: 'SMS',
    emails: 'E-mails',
    other: 'English',
    otherLang: 'en',
    empty: 'Rien pour l’instant.',
  },
  en: {
    title: 'Phone & inbox',
    note: 'Development: nothing is sent. Every SMS, call and email lands here.',
    calls: 'Calls',
    sms: 'Text messages',
    emails: 'Emails',
    other: 'Français',
    otherLang: 'fr',
    empty: 'Nothing yet.',
  },
} as const;

function pageHtml(lang: 'fr' | 'en'): string {
  const t = TEXT[lang];
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${t.title} · Sésame</title>
<style>${CSS}</style>
</head>
<body>
<header>
  <h1>${t.title}</h1>
  <p class="note">${t.note}</p>
  <a class="lang" href="?lang=${t.otherLang}" lang="${t.otherLang}" hreflang="${t.otherLang}" data-testid="lang-toggle">${t.other}</a>
</header>
<p id="error" role="alert" data-testid="error" hidden></p>
<main>
  <section aria-labelledby="h-calls"><h2 id="h-calls">${t.calls}</h2><div id="calls" data-testid="calls"><p class="empty">${t.empty}</p></div></section>
  <section aria-labelledby="h-sms"><h2 id="h-sms">${t.sms}</h2><div id="sms" data-testid="sms-list"><p class="empty">${t.empty}</p></div></section>
  <section aria-labelledby="h-emails"><h2 id="h-emails">${t.emails}</h2><div id="emails" data-testid="emails"><p class="empty">${t.empty}</p></div></section>
</main>
<script src="/dev/phone/app.js"></script>
</body>
</html>
`;
}

const CSS = `
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c2430;background:#eef1f5}
header{display:flex;flex-wrap:wrap;align-items:baseline;gap:.3rem 1.2rem;padding:1rem 1.5rem;background:#1f3a5f;color:#fff}
header h1{margin:0;font-size:1.35rem}
header .note{margin:0;flex:1;opacity:.9;font-size:.95rem}
header .lang{color:#fff;font-weight:600}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:1rem;padding:1rem 1.5rem;align-items:start}
section{background:#fff;border-radius:10px;padding:.8rem 1rem 1rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}
h2{margin:.1rem 0 .6rem;font-size:1.15rem}
h3{margin:0 0 .4rem;font-size:1rem;color:#1f3a5f}
.empty{color:#5b6573;font-style:italic}
.thread{border-top:1px solid #dde3ea;padding:.6rem 0}
.thread:first-child{border-top:0}
.msg{background:#e4f0e6;border-radius:12px 12px 12px 3px;padding:.45rem .7rem;margin:.35rem 0;white-space:pre-wrap;overflow-wrap:anywhere}
.msg strong{font-size:1.05em;letter-spacing:.06em;background:#fff7c2;padding:0 .15em;border-radius:3px}
.meta{display:block;color:#5b6573;font-size:.8rem}
.email{border:1px solid #dde3ea;border-radius:8px;padding:.5rem .7rem;margin:.4rem 0}
.email .subject{font-weight:700}
.email .body{white-space:pre-wrap;margin:.3rem 0 0;overflow-wrap:anywhere}
.call{border:1px solid #cfd8e3;border-radius:10px;padding:.6rem .7rem;margin:.45rem 0}
.call.ringing{border-color:#2e7d32;background:#f1faf1}
.call.ended{opacity:.8}
.state{font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
button{font:inherit;font-weight:600;border:0;border-radius:8px;padding:.45rem .9rem;cursor:pointer;background:#dfe6ee;color:#1c2430}
button:focus-visible,a:focus-visible{outline:3px solid #f3a712;outline-offset:2px}
button.answer{background:#2e7d32;color:#fff}
button.hangup{background:#c62828;color:#fff}
button.voicemail{background:#455a64;color:#fff}
button.unsure{background:#6d4c41;color:#fff}
.transcript{margin:.4rem 0;padding:.4rem .7rem;background:#f6f8fa;border-radius:6px;max-height:22rem;overflow:auto;list-style:none}
.transcript li{margin:.15rem 0}
.transcript li.cue{color:#5b6573;font-style:italic;font-size:.9rem}
.keypad{display:grid;grid-template-columns:repeat(3,3.4rem);gap:.4rem;margin:.5rem 0}
.keypad button{padding:.55rem 0;font-size:1.15rem;background:#e8edf3}
.typed{font-family:ui-monospace,monospace;color:#1f3a5f;margin:0}
.typed:empty{display:none}
#error{margin:1rem 1.5rem 0;padding:.5rem .8rem;background:#fdecea;color:#8a1c1c;border-radius:6px}
`;

/** The page's script: plain browser JavaScript, served as is (no build step). */
const APP_JS = String.raw`'use strict';
(function () {
  var LANG = document.documentElement.lang === 'en' ? 'en' : 'fr';
  var T = {
    fr: {
      call: 'Appel', ringing: 'Ça sonne…', inProgress: 'En ligne', ended: 'Terminé',
      readOut: 'code lu à voix haute', keypad: 'code à taper au clavier',
      answer: 'Décrocher', unsure: 'Décrocher sans un mot', voicemail: 'Messagerie', hangup: 'Raccrocher',
      keypadLabel: 'Clavier du téléphone', transcript: 'Ce que dit l’appel', typed: 'Touches tapées : ',
      outcome: { completed: 'appel terminé', 'hung-up': 'vous avez raccroché', machine: 'messagerie', busy: 'occupé', 'no-answer': 'sans réponse' },
      failed: 'Échec : ', star: 'étoile', hash: 'dièse', key: 'Touche ',
      empty: 'Rien pour l’instant.', offline: 'Le serveur ne répond pas.'
    },
    en: {
      call: 'Call', ringing: 'Ringing…', inProgress: 'In progress', ended: 'Ended',
      readOut: 'code read out', keypad: 'code typed on the keypad',
      answer: 'Answer', unsure: 'Answer in silence', voicemail: 'Voicemail', hangup: 'Hang up',
      keypadLabel: 'Phone keypad', transcript: 'What the call says', typed: 'Keys typed: ',
      outcome: { completed: 'call completed', 'hung-up': 'you hung up', machine: 'voicemail', busy: 'busy', 'no-answer': 'no answer' },
      failed: 'Failed: ', star: 'star', hash: 'hash', key: 'Key ',
      empty: 'Nothing yet.', offline: 'The server does not answer.'
    }
  }[LANG];
  var KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '0', '#'];
  var filter = new URLSearchParams(location.search).get('to');
  var nodes = new Map();
  var callUi = new Map();
  var errorEl = document.getElementById('error');

  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'className') e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    (children || []).forEach(function (c) { if (c) e.appendChild(c); });
    return e;
  }
  function showError(msg) {
    if (msg) { errorEl.textContent = msg; errorEl.hidden = false; } else { errorEl.hidden = true; errorEl.textContent = ''; }
  }
  function phone(to) {
    var m = /^\+33(\d)(\d{8})$/.exec(to);
    if (m) return '+33 ' + m[1] + ' ' + m[2].replace(/(\d\d)(?=\d)/g, '$1 ');
    return to;
  }
  function time(iso) {
    var d = new Date(iso);
    return d.toLocaleString(LANG === 'en' ? 'en-GB' : 'fr-FR', { day: '2-digit', month: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }
  /** The text with codes (6 to 8 digits) in bold. */
  function withCodes(parent, text) {
    var parts = String(text).split(/(\b\d{6,8}\b)/);
    parts.forEach(function (p, i) {
      if (i % 2) parent.appendChild(el('strong', { text: p }));
      else if (p) parent.appendChild(document.createTextNode(p));
    });
    return parent;
  }
  /** Puts child at position i of parent, moving it only when it is elsewhere (keeps focus). */
  function place(parent, child, i) {
    if (parent.children[i] !== child) parent.insertBefore(child, parent.children[i] || null);
  }
  function prune(parent, keep) {
    Array.prototype.slice.call(parent.children).forEach(function (c) { if (keep.indexOf(c) < 0) parent.removeChild(c); });
  }
  function groups(entries) {
    var map = new Map();
    entries.forEach(function (e) { if (!map.has(e.to)) map.set(e.to, []); map.get(e.to).push(e); });
    return Array.from(map.entries());
  }
  function node(key, make) {
    var n = nodes.get(key);
    if (!n) { n = make(); nodes.set(key, n); }
    return n;
  }

  function renderSection(containerId, kind, entries, makeEntry, updateEntry) {
    var container = document.getElementById(containerId);
    var list = entries.filter(function (e) { return e.kind === kind; });
    if (!list.length) {
      if (!container.querySelector('.empty')) { container.textContent = ''; container.appendChild(el('p', { className: 'empty', text: T.empty })); }
      return;
    }
    var keepThreads = [];
    var at = 0;
    groups(list).forEach(function (g, gi) {
      var to = g[0], items = g[1];
      var thread;
      if (kind === 'email') thread = container;
      else {
        thread = node(kind + '|' + to, function () {
          var box = el('article', { className: 'thread', 'data-testid': kind === 'sms' ? 'sms-thread' : 'call-thread', 'data-to': to });
          box.appendChild(el('h3', { text: phone(to) }));
          box.appendChild(el('div', { className: 'items' }));
          return box;
        });
        place(container, thread, gi);
        keepThreads.push(thread);
      }
      var itemsBox = kind === 'email' ? container : thread.querySelector('.items');
      var keep = [];
      items.forEach(function (e, i) {
        var n = node(e.id, function () { return makeEntry(e); });
        if (updateEntry) updateEntry(n, e);
        place(itemsBox, n, kind === 'email' ? at++ : i);
        keep.push(n);
      });
      if (kind !== 'email') prune(itemsBox, keep);
      else keepThreads = keepThreads.concat(keep);
    });
    prune(container, keepThreads);
  }

  function makeSms(e) {
    var box = el('div', { className: 'msg', 'data-testid': 'sms', 'data-to': e.to, 'data-id': e.id });
    box.appendChild(el('span', { className: 'meta', text: time(e.createdAt) }));
    return withCodes(box, e.text || '');
  }
  function makeEmail(e) {
    var box = el('article', { className: 'email', 'data-testid': 'email', 'data-to': e.to, 'data-id': e.id });
    box.appendChild(el('span', { className: 'meta', text: e.to + ' · ' + time(e.createdAt) }));
    box.appendChild(el('div', { className: 'subject', 'data-testid': 'email-subject', text: e.subject || '' }));
    box.appendChild(withCodes(el('p', { className: 'body' }), e.text || ''));
    return box;
  }

  function makeCall(e) {
    var box = el('article', { className: 'call', 'data-testid': 'call', 'data-id': e.id, 'data-to': e.to, 'aria-label': T.call + ' ' + phone(e.to) });
    var ui = { typed: '', queue: Promise.resolve(), lines: 0 };
    callUi.set(e.id, ui);
    ui.meta = el('span', { className: 'meta', text: time(e.createdAt) + ' · ' + (e.mode === 'keypad' ? T.keypad : T.readOut) });
    ui.state = el('p', { className: 'state', 'data-testid': 'call-state', role: 'status' });
    ui.ringing = el('div', { className: 'actions' }, [
      el('button', { type: 'button', className: 'answer', 'data-testid': 'answer', text: T.answer }),
      el('button', { type: 'button', className: 'voicemail', 'data-testid': 'voicemail', text: T.voicemail }),
      // Detection cannot tell who answered: the code then waits for a key.
      el('button', { type: 'button', className: 'unsure', 'data-testid': 'answer-unsure', text: T.unsure })
    ]);
    ui.ringing.children[0].addEventListener('click', function () { act(e.id, 'answer', { as: 'human' }); });
    ui.ringing.children[1].addEventListener('click', function () { act(e.id, 'answer', { as: 'machine' }); });
    ui.ringing.children[2].addEventListener('click', function () { act(e.id, 'answer', { as: 'unsure' }); });
    ui.transcript = el('ul', { className: 'transcript', 'data-testid': 'transcript', 'aria-live': 'polite', 'aria-label': T.transcript, hidden: '' });
    ui.keypad = el('div', { className: 'keypad', role: 'group', 'aria-label': T.keypadLabel });
    KEYS.forEach(function (k) {
      var b = el('button', { type: 'button', 'data-testid': 'key-' + k, 'aria-label': T.key + (k === '*' ? T.star : k === '#' ? T.hash : k), text: k });
      b.addEventListener('click', function () { press(e.id, k); });
      ui.keypad.appendChild(b);
    });
    ui.typedEl = el('p', { className: 'typed', 'data-testid': 'typed', 'aria-live': 'polite' });
    var hang = el('button', { type: 'button', className: 'hangup', 'data-testid': 'hangup', text: T.hangup });
    hang.addEventListener('click', function () { act(e.id, 'hangup'); });
    ui.live = el('div', {}, [ui.keypad, ui.typedEl, el('div', { className: 'actions' }, [hang])]);
    [ui.meta, ui.state, ui.ringing, ui.transcript, ui.live].forEach(function (c) { box.appendChild(c); });
    return box;
  }
  function updateCall(box, e) {
    var ui = callUi.get(e.id);
    var phase = e.phase || 'ringing';
    box.className = 'call ' + phase;
    box.setAttribute('data-phase', phase);
    ui.state.textContent = phase === 'ringing' ? T.ringing : phase === 'in-progress' ? T.inProgress : T.ended + (T.outcome[e.status] ? ' (' + T.outcome[e.status] + ')' : '');
    ui.ringing.hidden = phase !== 'ringing';
    ui.live.hidden = phase !== 'in-progress';
    showTranscript(ui, e.transcript || []);
  }
  /** The call's stage directions ("[waiting for 6 keys or #]", "[hang up]") are in English: in French on a French page. */
  function cueText(line) {
    if (LANG !== 'fr') return line;
    if (line === '[hang up]') return '[fin de l’appel]';
    var m = /^\[waiting for (?:(\d+) keys?|keys)(?: or (.))?\]$/.exec(line);
    if (!m) return line;
    var n = m[1] ? Number(m[1]) : 0;
    return '[attend ' + (n ? n + ' touche' + (n > 1 ? 's' : '') : 'des touches') + (m[2] ? ' ou ' + m[2] : '') + ']';
  }
  function showTranscript(ui, lines) {
    if (lines.length < ui.lines) { ui.transcript.textContent = ''; ui.lines = 0; }
    for (var i = ui.lines; i < lines.length; i++) {
      var cue = /^\[.*\]$/.test(lines[i]) || lines[i] === '…';
      ui.transcript.appendChild(el('li', cue ? { className: 'cue', text: cueText(lines[i]) } : { text: lines[i] }));
    }
    ui.lines = lines.length;
    ui.transcript.hidden = lines.length === 0;
    if (lines.length) ui.transcript.scrollTop = ui.transcript.scrollHeight;
  }

  function post(id, action, body) {
    return fetch('/dev/phone/api/calls/' + encodeURIComponent(id) + '/' + action, {
      method: 'POST',
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (json) {
        if (!res.ok) throw new Error(json.detail || json.title || json.message || String(res.status));
        return json;
      });
    });
  }
  /** One action at a time per call, in the order clicked; the answer updates the card at once. */
  function act(id, action, body) {
    var ui = callUi.get(id);
    actions++;
    ui.queue = ui.queue.then(function () {
      return post(id, action, body).then(function (turn) {
        actions++;
        showError('');
        var box = nodes.get(id);
        if (box && turn && turn.state) {
          updateCall(box, { id: id, phase: turn.state.phase, status: turn.status, transcript: turn.transcript });
        }
      }, function (err) { showError(T.failed + err.message); });
    }).then(refresh);
    return ui.queue;
  }
  /** Every key is sent as it is pressed: the call collects them until its gather is complete. */
  function press(id, key) {
    var ui = callUi.get(id);
    ui.typed += key;
    ui.typedEl.textContent = T.typed + ui.typed;
    act(id, 'keys', { keys: key });
  }

  var busy = false;
  var actions = 0;
  function refresh() {
    if (busy) return Promise.resolve();
    busy = true;
    var seen = actions;
    return fetch('/dev/phone/api/entries' + (filter ? '?to=' + encodeURIComponent(filter) : ''))
      .then(function (res) { if (!res.ok) throw new Error(String(res.status)); return res.json(); })
      .then(function (json) {
        // An action answered meanwhile: this list may be older than what the card shows, wait for the next one.
        if (seen !== actions) return;
        var entries = json.entries || [];
        renderSection('calls', 'voice', entries, makeCall, updateCall);
        renderSection('sms', 'sms', entries, makeSms);
        renderSection('emails', 'email', entries, makeEmail);
        if (errorEl.textContent === T.offline) showError('');
      })
      .catch(function () { showError(T.offline); })
      .then(function () { busy = false; });
  }
  refresh();
  setInterval(refresh, 1000);
})();
`;
