/**
 * Where a run comes from, as MLflow's own clients record it (`mlflow/tracking/context/`), so the
 * UI's "User", "Source" and "Version" columns are filled on every run, children included:
 *
 * | tag                          | value                                                             |
 * | ---------------------------- | ----------------------------------------------------------------- |
 * | `mlflow.user`                | `MLFLOW_TRACKING_USERNAME` when set, else the OS user (as MLflow) |
 * | `mlflow.source.name`         | the entry script, relative to the checkout (`apps/experiments/src/main.ts`) |
 * | `mlflow.source.type`         | `LOCAL`                                                           |
 * | `mlflow.source.git.commit`   | the plain commit hash                                             |
 * | `mlflow.source.git.branch`   | the branch (absent on a detached HEAD)                            |
 * | `mlflow.source.git.repoURL`  | `origin`, without user info                                       |
 * | `cfa.source.git.dirty`       | `true` when tracked files differ from the commit, else `false`    |
 * | `cfa.code.hash`              | the hash of the sources that compute results (code-version.ts)   |
 *
 * Outside a git checkout the git tags are left out.
 *
 * @example
 * ```ts
 * const tags = runSourceTags(await runSource());
 * ```
 */
import { execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { userInfo } from 'node:os';
import { isAbsolute, relative } from 'node:path';
import { MLFLOW_TAGS, redactUrls, trackingCredentials } from '@cfa/tracking';
import { codeVersion, REPO_ROOT } from './code-version';

export const SOURCE_TAGS = {
  dirty: 'cfa.source.git.dirty',
  codeHash: 'cfa.code.hash',
} as const;

export interface RunSource {
  user: string;
  sourceName: string;
  commit?: string;
  branch?: string;
  repoUrl?: string;
  dirty?: boolean;
  codeHash: string;
}

function git(args: string[], cwd: string): string | undefined {
  try {
    return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function realpathOr(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
}

/** MLflow's `mlflow.user`: the tracking user name when credentials name one, else the OS user. */
export function trackingUser(env: Record<string, string | undefined> = process.env): string {
  try {
    return trackingCredentials(env).username ?? osUser();
  } catch {
    return env.MLFLOW_TRACKING_USERNAME || osUser();
  }
}

let cached: Promise<RunSource> | undefined;

/** This process's run source (computed once). */
export function runSource(): Promise<RunSource> {
  cached ??= (async () => {
    // the script itself, also when started through a link (npx cfa → node_modules/.bin/cfa)
    const argv1 = process.argv[1] ?? '<unknown>';
    const main = isAbsolute(argv1) ? realpathOr(argv1) : argv1;
    const sourceName = isAbsolute(main) && main.startsWith(REPO_ROOT) ? relative(REPO_ROOT, main) : main;
    const commit = git(['rev-parse', 'HEAD'], REPO_ROOT);
    const branch = git(['rev-parse', '--abbrev-ref', 'HEAD'], REPO_ROOT);
    const remote = git(['remote', 'get-url', 'origin'], REPO_ROOT);
    const status = commit ? git(['status', '--porcelain', '--untracked-files=no'], REPO_ROOT) : undefined;
    return {
      user: trackingUser(),
      sourceName,
      ...(commit ? { commit, dirty: Boolean(status) } : {}),
      ...(branch && branch !== 'HEAD' ? { branch } : {}),
      ...(remote ? { repoUrl: redactUrls(remote) } : {}),
      codeHash: (await codeVersion()).hash,
    };
  })();
  return cached;
}

export function runSourceTags(source: RunSource): Record<string, string> {
  return {
    [MLFLOW_TAGS.user]: source.user,
    [MLFLOW_TAGS.source]: source.sourceName,
    [MLFLOW_TAGS.sourceType]: 'LOCAL',
    ...(source.commit ? { [MLFLOW_TAGS.gitCommit]: source.commit } : {}),
    ...(source.branch ? { [MLFLOW_TAGS.gitBranch]: source.branch } : {}),
    ...(source.repoUrl ? { [MLFLOW_TAGS.gitRepoUrl]: source.repoUrl } : {}),
    ...(source.dirty !== undefined ? { [SOURCE_TAGS.dirty]: String(source.dirty) } : {}),
    [SOURCE_TAGS.codeHash]: source.codeHash,
  };
}
