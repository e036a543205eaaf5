/**
 * `nx run tools:fetch-weights -- <backbone…>`: standard ImageNet weights into the cache, with
 * resume, checksum and a progress bar; `--from-file` for machines without internet.
 */
import { Command } from 'commander';
import cliProgress from 'cli-progress';
import { defaultWeightsDir, fetchWeights } from './fetch-weights';
import { WEIGHT_SOURCES } from './weight-registry';

const program = new Command('fetch-weights')
  .description(`download ImageNet weights (${Object.keys(WEIGHT_SOURCES).join(', ')}) into the cache`)
  .argument('<backbones...>', 'backbone names')
  .option('--cache-dir <dir>', 'where to keep them (default $CFA_WEIGHTS_DIR or ~/.cache/cfa/weights)')
  .option('--from-file <file>', 'take this file instead of downloading (checked against the expected hash)')
  .action(async (backbones: string[], options: { cacheDir?: string; fromFile?: string }) => {
    if (options.fromFile && backbones.length !== 1) throw new Error('--from-file takes exactly one backbone');
    for (const backbone of backbones) {
      const bar = new cliProgress.SingleBar(
        { format: `${backbone} [{bar}] {percentage}% {value}/{total} bytes`, stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      let started = false;
      const path = await fetchWeights({
        backbone,
        cacheDir: options.cacheDir,
        fromFile: options.fromFile,
        onProgress: (received, total) => {
          if (!started) bar.start(total ?? 0, received);
          started = true;
          bar.update(received);
        },
        log: (line) => process.stderr.write(`${line}\n`),
      }).finally(() => bar.stop());
      process.stdout.write(`${path}\n`);
    }
    process.stderr.write(`use with: --weights <path> (cache: ${options.cacheDir ?? defaultWeightsDir()})\n`);
  });

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 1;
});
