/**
 * The commit a sweep ran from (MLflow's `mlflow.source.git.commit` tag); empty outside a checkout.
 */
import { execFileSync } from 'node:child_process';

export function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', 'HEAD'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${sha}-dirty` : sha;
  } catch {
    return '';
  }
}
