/**
 * Plain text tables for the console (and markdown for artifacts): columns aligned, numbers as
 * given. `formatTable` is one header line per column; `formatLayout` takes multi-line headers and
 * splits a table that is too wide for the terminal into blocks, each repeating the label columns.
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

export interface TableLayout {
  /** Per column, its header lines top to bottom (columns with fewer lines are padded at the top). */
  headers: string[][];
  body: string[][];
  /** The first `labelColumns` columns are labels: left-aligned, repeated in every block. */
  labelColumns: number;
  /** Value columns where a new column group starts: a split prefers to break there. */
  groupStarts?: number[];
  /** One-line headers for markdown (default: each column's header lines joined by a space). */
  markdownHeaders?: string[];
  /** A line over the value columns (not widening them): what the numbers below it are. */
  title?: string;
}

const SEPARATOR = '  ';

/**
 * The table as text no wider than `maxWidth` (a 120-column terminal by default): when it would be
 * wider, the value columns are split into consecutive blocks, each printed with the label columns.
 */
export function formatLayout(layout: TableLayout, maxWidth = 120): string {
  const { headers, body, labelColumns } = layout;
  const depth = Math.max(...headers.map((h) => h.length));
  const lines = headers.map((h) => [...Array(depth - h.length).fill(''), ...h]);
  const widths = headers.map((_, i) =>
    Math.max(...lines[i].map((t) => t.length), ...body.map((r) => (r[i] ?? '').length)),
  );
  const labelWidth = widths.slice(0, labelColumns).reduce((a, w) => a + w + SEPARATOR.length, 0);
  const starts = new Set(layout.groupStarts ?? []);
  const blocks: number[][] = [];
  let current: number[] = [];
  let used = labelWidth;
  for (let c = labelColumns; c < headers.length; c++) {
    const need = widths[c] + SEPARATOR.length;
    if (current.length && used + need - SEPARATOR.length > maxWidth) {
      // break at the last group start inside this block, if that leaves something on each side
      const at = current.findLastIndex((col, k) => k > 0 && starts.has(col));
      const carry = at > 0 ? current.splice(at) : [];
      blocks.push(current);
      current = carry;
      used = labelWidth + carry.reduce((a, col) => a + widths[col] + SEPARATOR.length, 0);
    }
    current.push(c);
    used += need;
  }
  if (current.length || blocks.length === 0) blocks.push(current);
  const labels = Array.from({ length: labelColumns }, (_, i) => i);
  const pad = (text: string, col: number) =>
    col < labelColumns ? text.padEnd(widths[col]) : text.padStart(widths[col]);
  const render = (cols: number[]) => {
    const all = [...labels, ...cols];
    const row = (cells: (col: number) => string) =>
      all
        .map((col) => pad(cells(col), col))
        .join(SEPARATOR)
        .trimEnd();
    const titleLine = layout.title ? [`${' '.repeat(labelWidth)}${layout.title}`] : [];
    return [
      ...titleLine,
      ...Array.from({ length: depth }, (_, d) => row((col) => lines[col][d])),
      all.map((col) => '─'.repeat(widths[col])).join(SEPARATOR),
      ...body.map((r) => row((col) => r[col] ?? '')),
    ].join('\n');
  };
  return blocks.map(render).join('\n\n');
}

/** The same table as markdown: header lines joined by a space, numbers right-aligned. */
export function formatLayoutMarkdown(layout: TableLayout): string {
  const { headers, body, labelColumns } = layout;
  const names = layout.markdownHeaders ?? headers.map((h) => h.filter(Boolean).join(' '));
  // the text table's trailing blanks (room for a marker) align nothing in rendered markdown
  const cells = body.map((r) => names.map((_, i) => (r[i] ?? '').trimEnd()));
  const widths = names.map((h, i) => Math.max(h.length, 3, ...cells.map((r) => r[i].length)));
  const pad = (text: string, col: number) =>
    col < labelColumns ? text.padEnd(widths[col]) : text.padStart(widths[col]);
  const line = (cells: string[]) => `| ${cells.map((t, col) => pad(t, col)).join(' | ')} |`;
  const rule = `|${widths.map((w, col) => (col < labelColumns ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  const title = layout.title ? [`*${layout.title}*`, ''] : [];
  return [...title, line(names), rule, ...cells.map(line)].join('\n');
}
