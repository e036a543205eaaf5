/**
 * What the commands that log to MLflow share: the request deadline option, a one-line description
 * of where runs go (server, credentials by variable name, deadline — never a secret), the check
 * that a local store's folder can be written (before any work), and the command line that runs a
 * sweep again, without credentials, for the parent run's `cfa.command`.
 */
import { type Command, Option } from 'commander';
import { checkOutputFolder, OutputFolderError } from '@cfa/io';
import { redactUrls, type TrackingStore, trackingCredentials } from '@cfa/tracking';
import { positiveNumber } from './common-options';

/** The default deadline of a tracking request, in seconds. */
export const TRACKING_TIMEOUT_S = 15;

export function addTrackingTimeoutOption(command: Command): Command {
  return command.addOption(
    new Option(
      '--tracking-timeout-s <s>',
      'the longest a tracking request may take, retries included; a write that misses it is spooled, a first contact that misses it fails',
    )
      .env('CFA_TRACKING_TIMEOUT_S')
      .argParser(positiveNumber)
      .default(TRACKING_TIMEOUT_S),
  );
}

/** `http://host:5000 (Basic auth as 'alice' (…); a request gives up after 15 s)`, or the local folder. */
export function describeTracking(store: TrackingStore, timeoutS: number): string {
  if (!/^https?:/.test(store.location)) return `${store.location} (local file store)`;
  let auth: string;
  try {
    auth = trackingCredentials(process.env).description;
  } catch (error) {
    auth = (error as Error).message;
  }
  return `${store.location} (${auth}; a request gives up after ${timeoutS} s)`;
}

const quote = (arg: string) => (/^[\w./:=@,+-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`);

/**
 * This invocation as a command to run again from the repository root: `npx cfa <args>`, without
 * `--fresh` (a re-run should resume, not start over) and with URLs stripped of user info.
 */
export function rerunCommand(argv: string[] = process.argv): string {
  const args = argv.slice(2).filter((a) => a !== '--fresh');
  return redactUrls(`npx cfa ${args.map(quote).join(' ')}`);
}

/**
 * A local store (`./mlruns`, a path, a `file:` URI) whose folder cannot be created or written is
 * found before any work, and said to be the tracking store — not a bare `ENOENT: mkdir …` after
 * training. `alternatives` names what else the command offers (e.g. `or --no-tracking`).
 */
export async function checkLocalTrackingStore(store: TrackingStore, alternatives = ''): Promise<void> {
  if (/^https?:/.test(store.location)) return;
  try {
    await checkOutputFolder(store.location, 'the local tracking store');
  } catch (error) {
    if (!(error instanceof OutputFolderError)) throw error;
    throw new Error(
      `${error.message}: MLflow runs are logged there — pass --tracking-uri with a folder you can write or a server${alternatives}`,
    );
  }
}
