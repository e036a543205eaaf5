/**
 * Which writes a damaged spool lost, and to which runs: a line that is neither an entry nor an
 * acknowledgement (a disk error, a hand edit, a torn last line left by a crash mid-append) is a
 * write that will never be delivered — unless its acknowledgement survives (it was delivered) or
 * it was an acknowledgement itself (its entry is then sent again, which replays absorb). What the
 * damaged text still shows names it: `"seq":N`, `"op":"…"`, the run id or placeholder; a line too
 * damaged to show its run is charged to the runs of the entries around it (entries are appended in
 * order, so the lost write belongs to one of them).
 *
 * @example
 * ```ts
 * lostWrites([{ kind: 'entry', entry }, { kind: 'damaged', raw: '{"seq":2,"op":"logArt', torn: false }]);
 * // [{ seq: 2, op: 'logArtifact', runIds: [<entry's run>], torn: false, … }]
 * ```
 */
import type { SpoolEntry } from './spool-journal';

/** One line of a spool file as read, in file order. */
export type SpoolLine =
  { kind: 'entry'; entry: SpoolEntry } | { kind: 'ack'; seq: number } | { kind: 'damaged'; raw: string; torn: boolean };

export interface LostWrite {
  /** The entry's number, when the damaged text still shows it. */
  seq?: number;
  /** Its operation (`logArtifact`, `updateRun`, …), when shown. */
  op?: string;
  /** The run(s) it wrote to, as the spool names them (a real id or a `pending-` placeholder). */
  runIds: string[];
  /** Whether the runs were read from the line itself, or inferred from the entries around it. */
  runNamed: boolean;
  /** The last line, cut by a crash mid-append. */
  torn: boolean;
}

/** The run an entry writes to, as the spool names it. */
export function entryRunId(entry: SpoolEntry): string {
  switch (entry.op) {
    case 'createRun':
      return entry.placeholder;
    case 'updateRun':
      return entry.request.runId;
    default:
      return entry.runId;
  }
}

const match = (pattern: RegExp, text: string) => pattern.exec(text)?.[1];

export function lostWrites(lines: readonly SpoolLine[]): LostWrite[] {
  const acked = new Set(lines.flatMap((l) => (l.kind === 'ack' ? [l.seq] : [])));
  const neighbour = (from: number, step: 1 | -1) => {
    for (let i = from + step; i >= 0 && i < lines.length; i += step) {
      const line = lines[i];
      if (line.kind === 'entry') return entryRunId(line.entry);
    }
    return undefined;
  };
  const out: LostWrite[] = [];
  lines.forEach((line, i) => {
    if (line.kind !== 'damaged') return;
    // an acknowledgement: at worst its entry is delivered again, and replays are idempotent
    if (/^\s*\{\s*"ack"\s*:/.test(line.raw)) return;
    const seqText = match(/"seq"\s*:\s*(\d+)/, line.raw);
    const seq = seqText === undefined ? undefined : Number(seqText);
    if (seq !== undefined && acked.has(seq)) return; // delivered before the line was damaged
    const named = match(/"(?:runId|placeholder)"\s*:\s*"([^"]+)"/, line.raw);
    const op = match(/"op"\s*:\s*"(\w+)"/, line.raw);
    // a run's creation comes before its writes: a lost creation belongs to the run written next
    const around = [op === 'createRun' ? undefined : neighbour(i, -1), neighbour(i, 1)].filter(
      (r): r is string => r !== undefined,
    );
    out.push({
      ...(seq !== undefined ? { seq } : {}),
      ...(op ? { op } : {}),
      runIds: named ? [named] : [...new Set(around)],
      runNamed: named !== undefined,
      torn: line.torn,
    });
  });
  return out;
}

/** `entry 5 (logArtifact) of run 8c1e…`, for messages. */
export function describeLostWrite(write: LostWrite, resolve: (runId: string) => string = (id) => id): string {
  const what = `${write.seq !== undefined ? `entry ${write.seq}` : 'an entry'} (${write.op ?? 'unreadable'})`;
  const runs = write.runIds.map(resolve);
  const of = runs.length
    ? write.runNamed
      ? ` of run ${runs[0]}`
      : ` of run ${runs.join(' or ')} (the entries around it)`
    : ' of an unknown run';
  return `${what}${of}${write.torn ? ', the last line, cut by a crash mid-write' : ''}`;
}
