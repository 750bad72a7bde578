import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface HotFunction {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

/** Milliseconds from the start of the profile (≈ the start of the process): only samples inside count. */
export interface Window {
  fromMs: number;
  toMs: number;
}

export interface ProfileSummary {
  /** Share of the window the main thread waited for work ("(idle)"). */
  idleShare: number;
  busyMs: number;
  /** Shares below are of the busy time. */
  functions: HotFunction[];
  modules: HotFunction[];
}

/**
 * The server's main thread inside `window`, from the V8 .cpuprofile files in `dir` (node --cpu-prof):
 * how much it idled, its top self-time functions and its self time by module.
 */
export function summariseProfile(dir: string, window: Window, n = 10): ProfileSummary {
  const all = aggregate(dir, window, (name, where) => ({ key: `${name}@${where}`, name, where }));
  const idleMs = all.find((h) => h.name === '(idle)')?.selfMs ?? 0;
  const totalMs = all.reduce((t, h) => t + h.selfMs, 0);
  const busyMs = totalMs - idleMs;
  const busy = (hs: HotFunction[]) =>
    hs
      .filter((h) => h.name !== '(idle)')
      .map((h) => ({ ...h, share: busyMs ? h.selfMs / busyMs : 0 }))
      .slice(0, n);
  return { idleShare: totalMs ? idleMs / totalMs : 0, busyMs, functions: busy(all), modules: busy(selfTimeByModule(dir, window)) };
}

/** Self time by package (node_modules/<name>), source file (src/…), wasm, node internals or V8 ("(idle)", GC…). */
function selfTimeByModule(dir: string, window: Window): HotFunction[] {
  return aggregate(dir, window, (name, where) => {
    const file = where.replace(/:\d+$/, '');
    let mod: string;
    if (!file) mod = name.startsWith('(') ? name : '(native)';
    else if (file.startsWith('wasm://')) mod = 'wasm (PGlite)';
    else if (file.startsWith('node:')) mod = 'node:internal';
    else if (file.startsWith('src/')) mod = file;
    else mod = file.startsWith('@') ? file.split('/').slice(0, 2).join('/') : file.split('/')[0]!;
    return { key: mod, name: mod, where: '' };
  });
}

function aggregate(
  dir: string,
  window: Window,
  keyOf: (name: string, where: string) => { key: string; name: string; where: string },
): HotFunction[] {
  // One file per thread, CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile: the main thread is 0 (tsx's
  // module-loader worker, idle at run time, would otherwise double the idle share).
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /^CPU\.\d+\.\d+\.\d+\.0\.\d+\.cpuprofile$/.test(f)) : [];
  const byKey = new Map<string, HotFunction>();
  let total = 0;
  for (const f of files) {
    const prof = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
    const nodes = new Map(prof.nodes.map((nd) => [nd.id, nd]));
    const selfUs = new Map<number, number>();
    let at = 0;
    prof.samples.forEach((id, i) => {
      const delta = prof.timeDeltas[i] ?? 0;
      at += delta;
      if (at / 1000 >= window.fromMs && at / 1000 <= window.toMs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
    });
    for (const [id, us] of selfUs) {
      const cf = nodes.get(id)!.callFrame;
      const k = keyOf(cf.functionName || '(anonymous)', cf.url ? `${shorten(cf.url)}:${cf.lineNumber + 1}` : '');
      const hf = byKey.get(k.key) ?? { name: k.name, where: k.where, selfMs: 0, share: 0 };
      hf.selfMs += us / 1000;
      byKey.set(k.key, hf);
      total += us / 1000;
    }
  }
  return [...byKey.values()].map((h) => ({ ...h, share: total ? h.selfMs / total : 0 })).sort((a, b) => b.selfMs - a.selfMs);
}

function shorten(url: string): string {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const src = u.indexOf('/src/');
  return src >= 0 ? u.slice(src + 1) : u;
}
