/**
 * `sync-runs`: send what a sweep spooled while the tracking server was away (for example after the
 * sweep process itself was killed), in order and exactly once. Spools of delivered sweeps are empty.
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { RestTrackingStore, replaySpool } from '@cfa/tracking';
import { createLogger } from './logger';

export function syncRunsCommand(): Command {
  return new Command('sync-runs')
    .description('replay spooled MLflow writes (.cache/spool/*.jsonl) to the tracking server')
    .argument('[spools...]', 'spool files (default: every file in .cache/spool)')
    .addOption(
      new Option('--tracking-uri <uri>', 'MLflow tracking server').env('MLFLOW_TRACKING_URI').makeOptionMandatory(),
    )
    .action(async (spools: string[], options: { trackingUri: string }) => {
      const log = createLogger();
      const files = spools.length
        ? spools
        : (await readdir(join('.cache', 'spool')).catch(() => [] as string[]))
            .filter((f) => f.endsWith('.jsonl'))
            .map((f) => join('.cache', 'spool', f));
      let incomplete = 0;
      for (const file of files) {
        if ((await stat(file)).size === 0) continue;
        const result = await replaySpool(file, new RestTrackingStore({ uri: options.trackingUri }));
        log.info(
          `${file}: ${result.delivered} delivered, ${result.duplicatesSkipped} metric points already there, ${result.failed.length} failed for good${result.complete ? '' : ' — server unreachable, the rest stays spooled'}`,
        );
        for (const f of result.failed) log.warn(`entry ${f.seq}: ${f.error}`);
        if (!result.complete) incomplete++;
      }
      if (!files.length) log.info('nothing to sync');
      if (incomplete) process.exitCode = 1;
    });
}
