/** One line of the results table. */
export interface Row {
  database: string;
  scenario: string;
  flowsPerSecond: number | null;
  p50: number | null;
  p99: number | null;
  limit: { what: string; value: number } | null;
  ratio: number | null;
  target: string;
  /** true = met, false = missed, null = no target or not measured. */
  pass: boolean | null;
  notes: string[];
}

const num = (v: number | null, digits = 0) =>
  v === null || !Number.isFinite(v) ? '—' : v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (v: number | null) => (v === null || !Number.isFinite(v) ? '—' : v < 10 ? v.toFixed(1) : v.toFixed(0));

/** A Markdown table (for the README), footnotes numbered after it. */
export function markdownTable(rows: Row[]): string {
  const notes: string[] = [];
  const mark = (r: Row) =>
    r.notes
      .map((n) => {
        let i = notes.indexOf(n);
        if (i < 0) i = notes.push(n) - 1;
        return `[${i + 1}]`;
      })
      .join('');
  const header = ['database', 'scenario', 'flows/s', 'p50 ms', 'p99 ms', 'limit (what / value)', 'ratio', 'target', 'verdict'];
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${['---', '---', '--:', '--:', '--:', '---', '--:', '---', '---'].map((s) => ` ${s} `).join('|')}|`,
  ];
  for (const r of rows) {
    const cells = [
      r.database,
      `${r.scenario}${mark(r) ? ` ${mark(r)}` : ''}`,
      num(r.flowsPerSecond, r.flowsPerSecond !== null && r.flowsPerSecond < 100 ? 1 : 0),
      ms(r.p50),
      ms(r.p99),
      r.limit ? `${r.limit.what}: ${num(r.limit.value, r.limit.value < 100 ? 1 : 0)}` : '—',
      r.ratio === null ? '—' : `${(r.ratio * 100).toFixed(r.ratio < 0.1 ? 1 : 0)} %`,
      r.target,
      r.pass === null ? '—' : r.pass ? 'pass' : '**FAIL**',
    ];
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (notes.length) lines.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  return lines.join('\n');
}
