import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { VoiceCallError, type DevOutbox, type DevOutboxEntry } from '../../channels/index.js';
import { Conflict, NotFound } from '../../core/errors.js';
import { devPhonePage } from './dev-phone-page.js';

/**
 * Development only: the API of the "phone & inbox" page (`/dev/phone`). Nothing is sent in development;
 * every SMS, call and email lands in the dev outbox, where this page reads them and answers the calls.
 * Never registered in production (the dev outbox is refused there).
 */
export async function devPhoneRoutes(app: FastifyInstance, outbox: DevOutbox): Promise<void> {
  await devPhonePage(app);
  const tags = ['development'];
  const CallParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
  const call = (fn: () => Promise<unknown>) =>
    fn().catch((e) => {
      if (e instanceof VoiceCallError) throw new Conflict('ERR_CALL_STATE', e.message);
      throw e;
    });
  const known = async (id: string) => {
    const entry = await outbox.get(id);
    if (!entry || entry.message.kind !== 'voice') throw new NotFound('Call');
  };

  app.get('/dev/phone/api/entries', {
    schema: {
      tags,
      summary: 'Development: every SMS, call and email the server "sent", newest first',
      querystring: Type.Object({ to: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
    },
    handler: async (req) => {
      const { to } = req.query as { to?: string };
      const entries = await outbox.list(to ? { to } : {});
      return { entries: entries.map(entryView) };
    },
  });

  for (const action of ['answer', 'keys', 'hangup'] as const) {
    app.post(`/dev/phone/api/calls/:id/${action}`, {
      schema: {
        tags,
        summary: `Development: ${action === 'keys' ? 'type keys on the handset during' : action} a simulated call`,
        params: CallParams,
        ...(action === 'hangup'
          ? {}
          : {
              body:
                action === 'answer'
                  ? Type.Object(
                      { as: Type.Optional(Type.Union([Type.Literal('human'), Type.Literal('machine'), Type.Literal('unsure')])) },
                      { additionalProperties: false },
                    )
                  : Type.Object({ keys: Type.String({ pattern: '^[0-9*#]{1,20}$' }) }, { additionalProperties: false }),
            }),
      },
      handler: async (req) => {
        const { id } = req.params as { id: string };
        await known(id);
        const body = (req.body ?? {}) as { as?: 'human' | 'machine' | 'unsure'; keys?: string };
        return call(() =>
          action === 'answer'
            ? outbox.answer(id, body.as ?? 'human')
            : action === 'keys'
              ? outbox.pressKeys(id, body.keys!)
              : outbox.hangup(id),
        );
      },
    });
  }
}

function entryView(e: DevOutboxEntry) {
  const m = e.message;
  const base = { id: e.id, kind: m.kind, to: m.to, status: e.status, createdAt: e.createdAt.toISOString() };
  if (m.kind === 'sms') return { ...base, text: m.text };
  if (m.kind === 'email') return { ...base, subject: m.subject, text: m.text };
  // A call's words are only known once it is answered: the page shows what was said so far.
  return { ...base, mode: m.script.mode, language: m.script.language, phase: e.call?.phase ?? 'ringing', transcript: e.transcript ?? [] };
}
