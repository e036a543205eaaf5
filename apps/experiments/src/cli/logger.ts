/**
 * Console output for commands: timestamped log lines on stderr (stdout stays for results), and
 * progress bars that redraw in place on a terminal and print a line per phase elsewhere (CI logs).
 */
import cliProgress from 'cli-progress';

export interface Logger {
  info(line: string): void;
  warn(line: string): void;
}

const stamp = () => new Date().toISOString().slice(11, 19);

export function createLogger(options: { quiet?: boolean } = {}): Logger {
  return {
    info: (line) => {
      if (!options.quiet) process.stderr.write(`[${stamp()}] ${line}\n`);
    },
    warn: (line) => process.stderr.write(`[${stamp()}] warning: ${line}\n`),
  };
}

export interface PhaseProgress {
  update(phase: string, done: number, total: number, detail?: string): void;
  stop(): void;
}

/** One bar per phase; a new phase finishes the previous bar. */
export function createPhaseProgress(options: { enabled?: boolean } = {}): PhaseProgress {
  const tty = process.stderr.isTTY && options.enabled !== false;
  let bar: cliProgress.SingleBar | undefined;
  let current: string | undefined;
  let lastLogged = -1;
  const finish = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    update(phase, done, total, detail = '') {
      if (phase !== current) {
        finish();
        current = phase;
        lastLogged = -1;
        if (tty) {
          bar = new cliProgress.SingleBar(
            {
              format: `${phase.padEnd(11)} [{bar}] {value}/{total} {percentage}% | {duration_formatted} elapsed, eta {eta_formatted} {detail}`,
              stream: process.stderr,
              hideCursor: true,
              clearOnComplete: false,
            },
            cliProgress.Presets.shades_classic,
          );
          bar.start(total, done, { detail });
        }
      }
      if (bar) {
        bar.setTotal(total);
        bar.update(done, { detail });
      } else if (options.enabled !== false) {
        // without a terminal: a line at every quarter, so CI logs show movement without flooding
        const quarter = Math.floor((4 * done) / Math.max(1, total));
        if (quarter !== lastLogged) {
          lastLogged = quarter;
          process.stderr.write(`[${stamp()}] ${phase}: ${done}/${total}${detail ? ` (${detail})` : ''}\n`);
        }
      }
    },
    stop: finish,
  };
}
