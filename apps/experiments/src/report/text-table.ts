/**
 * Plain text tables for the console (and markdown for artifacts): columns aligned, numbers as given.
 */

export function formatTable(
  headers: string[],
  rows: (string | number)[][],
  options: { markdown?: boolean } = {},
): string {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const isNumber = (t: string) => /^-?[\d.]+%?$|^—$|^NaN$/.test(t);
  // a column is right-aligned when it holds numbers (blanks allowed: the paper has no number everywhere)
  const numeric = headers.map(
    (_, i) => cells.some((r) => isNumber(r[i] ?? '')) && cells.every((r) => !r[i] || isNumber(r[i])),
  );
  const pad = (text: string, i: number) => (numeric[i] ? text.padStart(widths[i]) : text.padEnd(widths[i]));
  if (options.markdown) {
    const line = (r: string[]) => `| ${r.map(pad).join(' | ')} |`;
    const rule = `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
    return [line(headers), rule, ...cells.map(line)].join('\n');
  }
  const line = (r: string[]) => r.map(pad).join('  ');
  return [line(headers), widths.map((w) => '─'.repeat(w)).join('  '), ...cells.map(line)].join('\n');
}

/** A metric in [0, 1] as a percentage with one decimal, the paper's style. */
export function percent(value: number): string {
  return Number.isFinite(value) ? (100 * value).toFixed(1) : '—';
}
