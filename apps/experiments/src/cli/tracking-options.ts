/**
 * What the commands that log to MLflow share: the request deadline option, a one-line description
 * of where runs go (server, credentials by variable name, deadline — never a secret), and the
 * command line that runs a sweep again, without credentials, for the parent run's `cfa.command`.
 */
import { type Command, Option } from 'commander';
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
