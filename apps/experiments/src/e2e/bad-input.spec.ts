/**
 * The bad-input table (docs/bad-input.md): every case is run through the `cfa` command (in this
 * process, output captured as the user sees it) and the table is rebuilt from what it printed, so
 * the document cannot go stale — the test fails when the file differs from what the cases give.
 * `CFA_UPDATE_DOCS=1 npx vitest run src/e2e/bad-input.spec.ts` (in apps/experiments) rewrites it.
 *
 * Each case also states what must hold (an error naming the file, found before training, …), so a
 * regression fails here even if someone regenerates the table.
 */
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync, deflateSync } from 'node:zlib';
import { encodeSafetensors, randomInitWeights, resnet18Definition, type StateDict } from '@cfa/backbone';
import { decodeMask, encodePng } from '@cfa/data';
import { FileTrackingStore, RestTrackingStore } from '@cfa/tracking';
import { type FakeMlflowServer, startFakeMlflowServer } from '@cfa/tracking/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT } from '../testing/cli-process';
import { runCfaInProcess, type InProcessRun } from '../testing/run-in-process';
import { TINY_BASE, tinyDataset } from '../testing/tiny-dataset';
import { rgbPng } from '@cfa/data/testing';

const DOC = join(REPO_ROOT, 'docs', 'bad-input.md');
const fixture = (path: string) => join(REPO_ROOT, 'packages/backbone/src/__fixtures__', path);

/** Progress phases of a run, in order: where a failing run stopped. */
const PHASES = ['check-files', 'embed-train', 'bank', 'train', 'embed-test', 'predict'] as const;

interface Ctx {
  /** A fresh copy of the tiny dataset (categories weave, disc). */
  root: string;
  dir: string;
  /** A tiny run config on `root` (64-pixel view, one epoch). */
  config: string;
}

interface Case {
  group: string;
  title: string;
  /** The command, with <data> / <dir> standing for the case's folders. */
  args: (ctx: Ctx) => Promise<string[]>;
  /** What must hold, whatever the table says. */
  check: (run: InProcessRun, seen: string) => void;
  /** For runs that succeed: what the user gets, in words (checked by `check`). */
  accepted?: string;
}

let tiny: string;
let weights: StateDict;
/** Servers a case started, closed after the run. */
const servers: FakeMlflowServer[] = [];
let casesDir: string;

const userLines = (run: InProcessRun) =>
  `${run.stderr}\n${run.stdout}`
    .split('\n')
    .map((l) => l.replace(/^\[\d\d:\d\d:\d\d\] /, ''))
    .filter((l) => /^(error|warning):|^✖|^ {2}(✖|→|…)|^\S+: \d+ problem/.test(l));

function stoppedAt(run: InProcessRun): string {
  const reached = PHASES.filter((p) => new RegExp(`(^|\\] )${p}: `, 'm').test(run.stderr));
  return reached.length ? reached[reached.length - 1] : 'start';
}

async function weightFile(ctx: Ctx, name: string, edit: (w: StateDict) => void): Promise<string> {
  const w: StateDict = new Map(weights);
  edit(w);
  const path = join(ctx.dir, name);
  await writeFile(path, encodeSafetensors(w, { dtype: 'F16' }));
  return path;
}

async function maskOf(ctx: Ctx, width: number, height: number, pixel: (i: number) => number): Promise<void> {
  const data = Uint8Array.from({ length: width * height }, (_, i) => pixel(i));
  await writeFile(
    join(ctx.root, 'weave/ground_truth/blob/000_mask.png'),
    await encodePng({ data, width, height, channels: 1 }),
  );
}

/** A zip whose one entry (data.pkl, deflated) claims to inflate to 4 GiB: a zip bomb's header. */
function zipBomb(): Uint8Array {
  const data = deflateRawSync(new Uint8Array(1 << 16));
  const name = new TextEncoder().encode('archive/data.pkl');
  const local = new Uint8Array(30 + name.length);
  const lv = new DataView(local.buffer);
  lv.setUint32(0, 0x04034b50, true);
  lv.setUint16(8, 8, true);
  lv.setUint32(18, data.length, true);
  lv.setUint32(22, 0xfffffffe, true);
  lv.setUint16(26, name.length, true);
  local.set(name, 30);
  const cd = new Uint8Array(46 + name.length);
  const cv = new DataView(cd.buffer);
  cv.setUint32(0, 0x02014b50, true);
  cv.setUint16(10, 8, true);
  cv.setUint32(16, crc32(new Uint8Array(1 << 16)), true);
  cv.setUint32(20, data.length, true);
  cv.setUint32(24, 0xfffffffe, true);
  cv.setUint16(28, name.length, true);
  cd.set(name, 46);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, 1, true);
  ev.setUint16(10, 1, true);
  ev.setUint32(12, cd.length, true);
  ev.setUint32(16, local.length + data.length, true);
  const out = new Uint8Array(local.length + data.length + cd.length + end.length);
  out.set(local);
  out.set(data, local.length);
  out.set(cd, local.length + data.length);
  out.set(end, local.length + data.length + cd.length);
  return out;
}

/** A PNG claiming 100000 × 100000 pixels: header, a few bytes of pixel data, end. */
const hugePng = () => rgbPng(100000, 100000, deflateSync(new Uint8Array(16)));

const trainEval = (ctx: Ctx, ...extra: string[]) => [
  'train-eval',
  '--config',
  ctx.config,
  '--heatmaps',
  '0',
  '--out',
  join(ctx.dir, 'out'),
  // the table is about the files: an MLflow run id in each message would change on every run
  '--no-tracking',
  ...extra,
];

let trained: string | undefined;

/**
 * A copy of one trained run (thresholds calibrated) in the case's folder, as `<dir>/run`: trained
 * once for every case that needs a model.
 */
async function trainedRun(ctx: Ctx): Promise<string> {
  if (!trained) {
    trained = join(casesDir, 'trained-run');
    const run = await runCfaInProcess(
      ['train-eval', '--config', ctx.config, '--heatmaps', '0', '--holdout', '0.25', '--no-tracking', '--out', trained],
      { CFA_THREADS: '1' },
    );
    expect(run.code, run.stderr).toBe(0);
  }
  const copy = join(ctx.dir, 'run');
  await cp(trained, copy, { recursive: true });
  return copy;
}

const failsNaming =
  (pattern: RegExp, before: readonly string[] = ['start', 'check-files']) =>
  (run: InProcessRun) => {
    expect(run.code, run.stderr).not.toBe(0);
    expect(userLines(run).join('\n')).toMatch(pattern);
    expect(before, `stopped at ${stoppedAt(run)}`).toContain(stoppedAt(run));
  };

const CASES: Case[] = [
  // ---- dataset ----
  {
    group: 'dataset',
    title: 'a mask of the wrong size (32×64 for a 64×64 image)',
    args: async (ctx) => (await maskOf(ctx, 32, 64, () => 255), trainEval(ctx)),
    check: failsNaming(/000_mask\.png: mask is 32×64 but its image .*000\.png is 64×64/),
  },
  {
    group: 'dataset',
    title: 'a mask with grey levels (not binary)',
    args: async (ctx) => (await maskOf(ctx, 64, 64, (i) => (i < 64 ? 128 : i < 2000 ? 255 : 0)), trainEval(ctx)),
    check: failsNaming(/000_mask\.png: mask is not binary: it holds the levels 0, 128, 255/),
  },
  {
    group: 'dataset',
    title: 'masks stored as 0/1 (VisA convention)',
    args: async (ctx) => {
      // every mask of the category rewritten with 1 for a defect pixel
      const gt = join(ctx.root, 'weave/ground_truth');
      for (const defect of await readdir(gt))
        for (const name of await readdir(join(gt, defect))) {
          const mask = await decodeMask(join(gt, defect, name));
          await writeFile(join(gt, defect, name), await encodePng({ ...mask, channels: 1 }));
        }
      return trainEval(ctx);
    },
    accepted: 'read as defects like 0/255 masks: every pixel metric is reported',
    check: (run) => {
      expect(run.code, run.stderr).toBe(0);
      // a metric left undefined (masks read as empty) is logged as a warning naming it
      expect(run.stderr).not.toMatch(/warning: pixel/);
    },
  },
  {
    group: 'dataset',
    title: 'random bytes saved as train/good/003.png',
    args: async (ctx) => (await writeFile(join(ctx.root, 'weave/train/good/003.png'), 'not a png'), trainEval(ctx)),
    check: failsNaming(/train\/good\/003\.png: cannot read the image header/),
  },
  {
    group: 'dataset',
    title: 'a PNG whose header claims 100000×100000 pixels',
    args: async (ctx) => (await writeFile(join(ctx.root, 'weave/train/good/003.png'), hugePng()), trainEval(ctx)),
    check: failsNaming(/003\.png: image is 100000×100000 = 10000\.0 megapixels, more than the 25 this loader reads/),
  },
  {
    group: 'dataset',
    title: 'a truncated PNG (header intact, pixels cut)',
    args: async (ctx) => {
      const path = join(ctx.root, 'weave/train/good/003.png');
      const bytes = await readFile(path);
      await writeFile(path, bytes.subarray(0, bytes.length >> 1));
      return trainEval(ctx);
    },
    // decoding stays lazy: found when the image is embedded, still before training
    check: failsNaming(/train\/good\/003\.png: cannot decode image/, ['embed-train']),
  },
  {
    group: 'dataset',
    title: 'a folder named train/good/x.png',
    args: async (ctx) => (await mkdir(join(ctx.root, 'weave/train/good/x.png')), trainEval(ctx)),
    check: failsNaming(/train\/good\/x\.png: is named like an image but is a folder; rename or remove it/),
  },
  {
    group: 'dataset',
    title: 'a symbolic link that loops (train/good/x.png → x.png)',
    args: async (ctx) => (await symlink('x.png', join(ctx.root, 'weave/train/good/x.png')), trainEval(ctx)),
    check: failsNaming(/train\/good\/x\.png: is a symbolic link that loops \(it leads back to itself\)/),
  },
  {
    group: 'dataset',
    title: 'macOS resource forks (train/good/._000.png) and .DS_Store',
    args: async (ctx) => {
      await writeFile(join(ctx.root, 'weave/train/good/._000.png'), Buffer.from([0, 5, 22, 7, 0, 2, 0, 0]));
      await writeFile(join(ctx.root, 'weave/train/good/.DS_Store'), 'x');
      return trainEval(ctx);
    },
    accepted: 'skipped (dot-entries are never data); the run trains on the real images',
    check: (run) => expect(run.code, run.stderr).toBe(0),
  },
  {
    group: 'dataset',
    title: 'a defect image without its mask',
    args: async (ctx) => {
      await writeFile(join(ctx.root, 'weave/ground_truth/blob/000_mask.png.bak'), '');
      await cp(join(ctx.root, 'weave/test/blob/000.png'), join(ctx.root, 'weave/test/blob/999.png'));
      return trainEval(ctx);
    },
    check: failsNaming(/test\/blob\/999\.png: defect image has no mask: expected .*ground_truth\/blob\/999_mask\.png/),
  },
  {
    group: 'dataset',
    title: 'a category that does not exist (--category carpet)',
    args: async (ctx) => trainEval(ctx, '--category', 'carpet'),
    check: failsNaming(/carpet: category 'carpet' does not exist; categories under .*: disc, weave/),
  },
  {
    group: 'dataset',
    title: 'a generation killed mid-way left <data>/.tmp-marble-99999999/',
    args: async (ctx) => {
      await mkdir(join(ctx.root, '.tmp-marble-99999999/train/good'), { recursive: true });
      return ['sweep', await sweepFile(ctx, { dataRoot: ctx.root }), '--categories', 'all', '--dry-run'];
    },
    accepted: 'not a category: `--categories all` lists disc and weave only',
    check: (run) => {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/2 cells/);
      expect(run.stdout).toMatch(/^categories +disc \(object\), weave \(texture\)$/m);
      expect(run.stdout).not.toMatch(/\.tmp-marble/);
    },
  },
  // ---- weights ----
  {
    group: 'weights',
    title: 'a weight file with a wrong-shaped tensor',
    args: async (ctx) =>
      trainEval(
        ctx,
        '--weights',
        await weightFile(ctx, 'shape.safetensors', (w) =>
          w.set('conv1.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) }),
        ),
      ),
    check: (run, seen) => {
      failsNaming(/shape\.safetensors: wrong shapes: conv1\.weight expected \[64, 3, 7, 7\] found \[64, 3, 3, 3\]/)(
        run,
      );
      expect(seen).not.toMatch(/Pass --allow-partial/);
    },
  },
  {
    group: 'weights',
    title: 'the same with --allow-partial',
    args: async (ctx) =>
      trainEval(
        ctx,
        '--allow-partial',
        '--weights',
        await weightFile(ctx, 'shape.safetensors', (w) =>
          w.set('conv1.weight', { shape: [64, 3, 3, 3], data: new Float32Array(64 * 27) }),
        ),
      ),
    check: (run, seen) => {
      failsNaming(/--allow-partial fills missing parameters only; it cannot use wrong-shaped or unexpected ones/)(run);
      expect(seen).not.toMatch(/Pass --allow-partial/);
    },
  },
  {
    group: 'weights',
    title: 'a weight file missing a parameter',
    args: async (ctx) =>
      trainEval(ctx, '--weights', await weightFile(ctx, 'partial.safetensors', (w) => w.delete('bn1.running_var'))),
    check: failsNaming(/missing keys: bn1\.running_var\. Pass --allow-partial .* to fill the 1 missing parameter/),
  },
  {
    group: 'weights',
    title: 'a weight file holding NaN',
    args: async (ctx) =>
      trainEval(
        ctx,
        '--weights',
        await weightFile(ctx, 'nan.safetensors', (w) => {
          const t = w.get('layer2.0.conv1.weight')!;
          const data = Float32Array.from(t.data);
          data[3] = NaN;
          w.set('layer2.0.conv1.weight', { shape: t.shape, data });
        }),
      ),
    check: failsNaming(
      /nan\.safetensors: 'layer2\.0\.conv1\.weight' holds 1 non-finite value\(s\) \(NaN at flat index 3\)/,
    ),
  },
  {
    group: 'weights',
    title: 'a legacy (torch < 1.6) .pth of another width',
    args: async (ctx) =>
      trainEval(ctx, '--backbone', 'wide_resnet50_2', '--weights', fixture('legacy-torch/wide_resnet50_2.legacy.pth')),
    check: failsNaming(
      /wide_resnet50_2\.legacy\.pth: wrong shapes: conv1\.weight expected \[64, 3, 7, 7\] found \[1, 3, 7, 7\]/,
    ),
  },
  {
    group: 'weights',
    title: 'a .pth whose pickle would call os.system',
    args: async (ctx) => trainEval(ctx, '--weights', fixture('torch-backbones/refused-code.pth')),
    check: failsNaming(/refused-code\.pth: unsupported pickle content \(global (posix|os)\.system\)/),
  },
  {
    group: 'weights',
    title: 'a truncated .pth',
    args: async (ctx) => {
      const bytes = await readFile(fixture('torch-backbones/resnet18.pth'));
      await writeFile(join(ctx.dir, 'cut.pth'), bytes.subarray(0, bytes.length - 100));
      return trainEval(ctx, '--weights', join(ctx.dir, 'cut.pth'));
    },
    check: failsNaming(/cut\.pth: zip end-of-central-directory record not found/),
  },
  {
    group: 'weights',
    title: 'a legacy .pth cut inside a storage',
    args: async (ctx) => {
      const bytes = await readFile(fixture('legacy-torch/vgg19_bn.legacy.pth'));
      await writeFile(join(ctx.dir, 'cut-legacy.pth'), bytes.subarray(0, bytes.length - 100));
      return trainEval(ctx, '--backbone', 'vgg19_bn', '--weights', join(ctx.dir, 'cut-legacy.pth'));
    },
    check: failsNaming(
      /cut-legacy\.pth: storage \S+ claims \d+ F32 elements \(\d+ bytes\), more than the \d+ bytes left/,
    ),
  },
  {
    group: 'weights',
    title: 'a .pth zip bomb (an entry claiming 4 GiB)',
    args: async (ctx) => (
      await writeFile(join(ctx.dir, 'bomb.pth'), zipBomb()),
      trainEval(ctx, '--weights', join(ctx.dir, 'bomb.pth'))
    ),
    check: failsNaming(
      /bomb\.pth: zip entry archive\/data\.pkl would inflate to 4294967294 bytes, past the \d+ bytes allowed/,
    ),
  },
  {
    group: 'weights',
    title: 'text saved as weights.pth',
    args: async (ctx) => (
      await writeFile(join(ctx.dir, 'weights.pth'), 'garbage'),
      trainEval(ctx, '--weights', join(ctx.dir, 'weights.pth'))
    ),
    check: failsNaming(/weights\.pth: not a torch checkpoint: neither the zip format/),
  },
  {
    group: 'weights',
    title: 'a weight file that does not exist',
    args: async (ctx) => trainEval(ctx, '--weights', join(ctx.dir, 'nope.safetensors')),
    check: failsNaming(/nope\.safetensors: cannot read \(ENOENT\)/),
  },
  // ---- options and config ----
  {
    group: 'options',
    title: '--gamma-c 100000',
    args: async (ctx) => trainEval(ctx, '--gamma-c', '100000'),
    check: failsNaming(
      /memoryBank\.gammaC = 100000 leaves ⌊196 \/ 100000⌋ = 0 memory-bank centre\(s\) for the 14×14 = 196 patches .* use γc ≤ 32/,
    ),
  },
  {
    group: 'options',
    title: '--out names a file',
    args: async (ctx) => {
      await writeFile(join(ctx.dir, 'result.txt'), 'x');
      return [...trainEval(ctx), '--out', join(ctx.dir, 'result.txt')];
    },
    check: failsNaming(/--out .*result\.txt: is a file, expected a folder for the outputs/),
  },
  {
    group: 'options',
    title: '--feature-cache names a file',
    args: async (ctx) => {
      await writeFile(join(ctx.dir, 'cache'), 'x');
      return trainEval(ctx, '--feature-cache', join(ctx.dir, 'cache'));
    },
    check: failsNaming(/--feature-cache .*cache: is a file, expected a folder/),
  },
  {
    group: 'options',
    title: '--epochs -1',
    args: async (ctx) => trainEval(ctx, '--epochs', '-1'),
    check: failsNaming(/expected a non-negative integer, got '-1'/),
  },
  {
    group: 'options',
    title: 'a damaged feature-cache entry (shorter than its header)',
    args: async (ctx) => {
      // fill a cache, then cut every entry to 5 bytes, as a power loss could leave one
      const cache = join(ctx.dir, 'feature-cache');
      await runCfaInProcess(trainEval(ctx, '--feature-cache', cache, '--epochs', '0'));
      for (const sub of await readdir(cache))
        for (const f of await readdir(join(cache, sub))) await truncate(join(cache, sub, f), 5);
      return trainEval(ctx, '--feature-cache', cache, '--epochs', '0');
    },
    accepted: 'a cache miss: the features are recomputed and the entry rewritten',
    check: (run) => expect(run.code, run.stderr).toBe(0),
  },
  {
    group: 'options',
    title: '--out holding files a run does not write (notes beside an earlier run)',
    args: async (ctx) => (
      await mkdir(join(ctx.dir, 'out'), { recursive: true }),
      await writeFile(join(ctx.dir, 'out', 'notes.txt'), 'mine'),
      trainEval(ctx)
    ),
    check: failsNaming(/--out .*out: holds 'notes\.txt', which this command does not write/, ['start']),
  },
  // ---- models: predict and export ----
  {
    group: 'models',
    title: 'predict into the run folder the model came from (`--out` = `--model`)',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      return ['predict', '--model', run, '--input', join(ctx.root, 'weave/test/good'), '--out', run];
    },
    check: failsNaming(
      /^error: --out .*\/run: is --model .*\/run, which this command reads: put the outputs outside it/,
      ['start'],
    ),
  },
  {
    group: 'models',
    title: 'predict into a folder inside `--input`',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      const input = join(ctx.root, 'weave/test/good');
      return ['predict', '--model', run, '--input', input, '--out', join(input, 'predictions')];
    },
    check: failsNaming(/--out .*predictions: lies inside --input .*good, which this command reads/, ['start']),
  },
  {
    group: 'models',
    title: 'predict on a folder with a linked camera folder and a link that loops',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      const input = join(ctx.dir, 'shots');
      await mkdir(input);
      await symlink(join(ctx.root, 'weave/test/good'), join(input, 'camera'));
      await symlink(input, join(input, 'back'));
      return ['predict', '--model', run, '--input', input, '--out', join(ctx.dir, 'p')];
    },
    accepted: "the linked folder's images are scored; the looping link is skipped with a warning naming it",
    check: (run, seen) => {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^2 image\(s\) scored/m);
      expect(seen).toMatch(/warning: .*shots\/back: skipped, a symbolic link to a folder already searched \(a loop\)/);
    },
  },
  {
    group: 'models',
    title: 'a threshold in manifest.json edited by hand',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      const file = join(run, 'model', 'manifest.json');
      const manifest = JSON.parse(await readFile(file, 'utf8'));
      manifest.thresholds.image /= 2;
      await writeFile(file, JSON.stringify(manifest, null, 2));
      return ['predict', '--model', run, '--input', join(ctx.root, 'weave/test/good'), '--out', join(ctx.dir, 'p')];
    },
    check: failsNaming(
      /manifest\.json: was changed after the model was saved: its content no longer matches the digest/,
      ['start'],
    ),
  },
  {
    group: 'models',
    title: 'export over an existing file, without --force',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      await writeFile(join(ctx.dir, 'model.onnx'), 'an earlier export');
      return ['export', '--model', run, '--out', join(ctx.dir, 'model.onnx')];
    },
    check: failsNaming(/^error: --out .*model\.onnx: exists; pass --force to replace it$/, ['start']),
  },
  {
    group: 'models',
    title: 'export into the model folder',
    args: async (ctx) => {
      const run = await trainedRun(ctx);
      return ['export', '--model', run, '--out', join(run, 'model', 'model.onnx')];
    },
    check: failsNaming(/--out .*model\.onnx: lies inside --model/, ['start']),
  },
  // ---- sweep files ----
  {
    group: 'sweeps',
    title: '`--categories all` on a sweep (the README paper setting, dry run)',
    args: async (ctx) => ['sweep', await sweepFile(ctx, { dataRoot: ctx.root }), '--categories', 'all', '--dry-run'],
    accepted: 'every category under the data root: disc and weave',
    check: (run) => {
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/2 cells[\s\S]* disc [\s\S]* weave /);
    },
  },
  {
    group: 'sweeps',
    title: 'a sweep file with a misspelt key and an unknown category',
    args: async (ctx) => [
      'sweep',
      await sweepFile(ctx, { categories: ['weave', 'carpet'], axes: [{ grid: { 'memoryBank.gamaC': [2] } }] }),
      '--dry-run',
    ],
    check: (run) => {
      expect(run.code).toBe(2);
      expect(userLines(run).join('\n')).toMatch(/unknown category 'carpet'[\s\S]*memoryBank\.gamaC/);
    },
  },
  {
    group: 'sweeps',
    title: 'a sweep file that is not valid YAML',
    args: async (ctx) => {
      const file = join(ctx.dir, 'broken.yaml');
      await writeFile(file, 'name: [unclosed');
      return ['sweep', file, '--dry-run'];
    },
    check: (run) => {
      expect(run.code).toBe(2);
      expect(userLines(run).join('\n')).toMatch(/broken\.yaml: 1 problem\n✖ not valid YAML/);
    },
  },
  {
    group: 'sweeps',
    title: '`--categories ""` (an empty list on the command line)',
    args: async (ctx) => ['sweep', await sweepFile(ctx, {}), '--categories', '', '--dry-run'],
    check: failsNaming(/^error: --categories: expected a comma-separated list of categories \(or 'all'\), got ''$/),
  },
  {
    group: 'sweeps',
    title: 'a sweep file listing a seed and a category twice',
    args: async (ctx) => [
      'sweep',
      await sweepFile(ctx, { categories: ['weave', 'weave'], seeds: [0, 1, 1] }),
      '--dry-run',
    ],
    check: (run) => {
      expect(run.code).toBe(2);
      expect(userLines(run).join('\n')).toMatch(
        /category weave is listed twice \(also at categories\[0\]\)[\s\S]*seed 1 is listed twice \(also at seeds\[1\]\)/,
      );
    },
  },
  {
    group: 'sweeps',
    title: 'axes that expand to 8 million cells (dry run)',
    args: async (ctx) => {
      const values = Array.from({ length: 200 }, (_, i) => i + 1);
      const grid = { 'memoryBank.gammaC': values, 'descriptor.gammaD': values, 'training.epochs': values };
      return ['sweep', await sweepFile(ctx, { axes: [{ grid }] }), '--dry-run'];
    },
    check: (run) => {
      expect(run.code).toBe(2);
      expect(userLines(run).join('\n')).toMatch(/8,000,000 cells = 1 category × 1 seed × 8,000,000 axis combinations/);
    },
  },
  {
    group: 'sweeps',
    title: 'a sweep file with a list of 1.4 million seeds (15 MiB)',
    args: async (ctx) => {
      const file = join(ctx.dir, 'bad-input.yaml');
      await writeFile(
        file,
        `${stringify({ name: 'bad-input', reproduces: 'x', categories: ['weave'], base: TINY_BASE })}seeds:\n`,
      );
      await appendFile(file, Array.from({ length: 1_400_000 }, (_, i) => `  - ${i}\n`).join(''));
      return ['sweep', file, '--dry-run'];
    },
    check: (run) => {
      expect(run.code).toBe(2);
      expect(userLines(run).join('\n')).toMatch(/MiB, more than the 1 MiB a run or sweep file may be/);
    },
  },
  {
    group: 'sweeps',
    title: '`--executor queue` with no Redis listening',
    args: async (ctx) => [
      'sweep',
      await sweepFile(ctx, { dataRoot: ctx.root }),
      '--executor',
      'queue',
      '--redis',
      'redis://127.0.0.1:1',
      '--redis-timeout-s',
      '1',
      '--tracking-uri',
      join(ctx.dir, 'mlruns'),
    ],
    check: (run, seen) => {
      failsNaming(
        /^error: Redis at redis:\/\/127\.0\.0\.1:1 did not answer within 1 s \(connect ECONNREFUSED[^)]*\).*Nothing was run or logged\.$/m,
      )(run);
      expect(seen).toMatch(/^warning: Redis at redis:\/\/127\.0\.0\.1:1 not reachable \(.*\); retry 1 in 0\.5 s$/m);
    },
  },
  {
    group: 'sweeps',
    title: 'the local tracking store cannot be created (its path runs through a file)',
    args: async (ctx) => (
      await writeFile(join(ctx.dir, 'notes'), 'x'),
      ['sweep', await sweepFile(ctx, { dataRoot: ctx.root }), '--tracking-uri', join(ctx.dir, 'notes', 'mlruns')]
    ),
    check: failsNaming(
      /the local tracking store .*notes is a file, so the folder cannot be created: MLflow runs are logged there/,
    ),
  },
  // ---- tracking ----
  {
    group: 'tracking',
    title: "the local store's experiment meta.yaml cut short",
    args: async (ctx) => {
      const mlruns = join(ctx.dir, 'mlruns');
      const store = new FileTrackingStore(mlruns);
      const id = await store.getOrCreateExperiment('train-eval');
      await store.close();
      const meta = join(mlruns, id, 'meta.yaml');
      const text = await readFile(meta, 'utf8');
      await writeFile(meta, text.slice(0, text.indexOf('lifecycle_stage') + 5));
      return trainEval(ctx)
        .filter((a) => a !== '--no-tracking')
        .concat(['--tracking-uri', mlruns]);
    },
    check: failsNaming(
      /meta\.yaml: .*it may be experiment 'train-eval', so no second experiment of that name is created/,
    ),
  },

  {
    group: 'tracking',
    title: 'a spool whose middle line (an artifact upload) is damaged, and whose last line is cut',
    args: async (ctx) => {
      const server = await startFakeMlflowServer();
      servers.push(server);
      const rest = new RestTrackingStore({ uri: server.url });
      const exp = await rest.getOrCreateExperiment('bad-input');
      const runId = (await rest.createRun({ experimentId: exp, runName: 'cell', startTime: 1 })).info.runId;
      await rest.close();
      const line = (o: object) => JSON.stringify(o);
      const spool = join(ctx.dir, 'sweep.jsonl');
      await writeFile(
        spool,
        [
          line({ seq: 1, op: 'logBatch', runId, batch: { params: [{ key: 'p', value: '1' }] } }),
          line({ seq: 2, op: 'logArtifact', runId, path: 'model/weights.safetensors', base64: 'AAAA' }).slice(0, 70),
          line({ seq: 3, op: 'updateRun', request: { runId, status: 'FINISHED', endTime: 2 } }),
          line({ seq: 4, op: 'logArtifact', runId, path: 'result.json', base64: 'AAAA' }).slice(0, 70),
        ].join('\n'),
      );
      return ['sync-runs', '--tracking-uri', server.url, spool];
    },
    check: (run, seen) => {
      expect(run.code).toBe(1);
      expect(seen).toMatch(/lost: entry 2 \(logArtifact\) of run \w+ — in a damaged line/);
      expect(seen).toMatch(/lost: entry 4 \(logArtifact\) of run \w+, the last line, cut by a crash mid-write/);
      expect(seen).toMatch(/run \w+ closed FAILED, not FINISHED: some of its writes were lost/);
    },
  },
];

async function sweepFile(ctx: Ctx, extra: object): Promise<string> {
  const file = join(ctx.dir, 'bad-input.yaml');
  const base = { name: 'bad-input', reproduces: 'bad-input table', categories: ['weave'], base: TINY_BASE };
  await writeFile(file, stringify({ ...base, ...extra }));
  return file;
}

/** Temp folders and timings out of the text, so the table is the same on every machine. */
function placeholders(text: string, ctx: Ctx): string {
  return (
    text
      .replaceAll(ctx.root, '<data>')
      .replaceAll(ctx.dir, '<dir>')
      .replaceAll(REPO_ROOT, '')
      .replace(/\b[0-9a-f]{64}\b/g, '<sha256>')
      .replace(/(mlruns\/)\d+\//g, '$1<experiment id>/')
      .replace(/\b[0-9a-f]{32}\b/g, '<run id>')
      .replace(/http:\/\/127\.0\.0\.1:\d+/g, 'http://127.0.0.1:<port>')
      // how many reconnection attempts fit in the deadline varies with the machine's load
      .replace(/(warning: Redis at \S+ not reachable \([^)]*\); retry 1 in 0\.5 s)(\nwarning: Redis at .*)+/, '$1\n…')
      .replace(/\b\d+ bytes allowed for a \d+-byte archive/, 'N bytes allowed for a M-byte archive')
      // libvips words one truncation differently from run to run (its first warning, or libpng's error)
      .replace(
        /cannot decode image \((Warning treated as error due to failOn setting|vipspng: libpng read error)\)/,
        'cannot decode image (libvips: libpng read error)',
      )
  );
}

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', '<br>');

function table(rows: { group: string; title: string; command: string; sees: string; stopped: string; code: number }[]) {
  const out = [
    '# Bad input: what the user sees',
    '',
    'Generated by `apps/experiments/src/e2e/bad-input.spec.ts`, which runs every case through the `cfa`',
    'command and fails when this file differs from what the runs printed (`CFA_UPDATE_DOCS=1 npx vitest run',
    'src/e2e/bad-input.spec.ts` in `apps/experiments` rewrites it). `<data>` is a copy of a tiny synthetic',
    'dataset (categories `weave` and `disc`, 64-pixel images), `<dir>` a scratch folder, `<run>` the',
    'train-eval options `--config <dir>/run.yaml --heatmaps 0 --out <dir>/out --no-tracking`. *Stopped at* is the',
    'last phase the run reached: `start` (before any file was read), `check-files` (every image header',
    'and mask, read before the first embedding), `embed-train`, … — nothing here needs training to be found.',
    '',
  ];
  for (const group of [...new Set(rows.map((r) => r.group))]) {
    out.push(`## ${group}`, '', '| case | command | what the user sees | exit | stopped at |', '|---|---|---|---|---|');
    for (const r of rows.filter((x) => x.group === group))
      out.push(`| ${cell(r.title)} | \`${cell(r.command)}\` | ${cell(r.sees)} | ${r.code} | ${r.stopped} |`);
    out.push('');
  }
  return out.join('\n');
}

describe('bad input: each case through the cfa command, and the table in docs/bad-input.md', () => {
  afterAll(async () => {
    for (const server of servers) await server.close();
  });
  beforeAll(async () => {
    tiny = await tinyDataset();
    casesDir = await mkdtemp(join(tmpdir(), 'bad-input-'));
    weights = randomInitWeights(resnet18Definition(), 0);
  });

  it('every case gives what it must, and the table matches the document', async () => {
    const rows = [];
    for (const [i, c] of CASES.entries()) {
      const dir = join(casesDir, `case-${i}`);
      const root = join(dir, 'data');
      await cp(tiny, root, { recursive: true });
      const config = join(dir, 'run.yaml');
      await writeFile(config, stringify({ dataset: { root, category: 'weave' }, cfa: TINY_BASE }));
      const ctx: Ctx = { root, dir, config };
      const args = await c.args(ctx);
      const run = await runCfaInProcess(args, { CFA_THREADS: '1' });
      const seen = userLines(run).join('\n');
      c.check(run, seen);
      const command = placeholders(
        `cfa ${args.map((a) => (a === '' || /\s/.test(a) ? `"${a}"` : a)).join(' ')}`.replace(
          trainEval(ctx).join(' '),
          'train-eval <run>',
        ),
        ctx,
      );
      const sees = c.accepted ? `accepted: ${c.accepted}` : placeholders(seen, ctx);
      rows.push({ group: c.group, title: c.title, command, sees, stopped: stoppedAt(run), code: run.code });
    }
    const text = `${table(rows)}\n`;
    if (process.env.CFA_UPDATE_DOCS) await writeFile(DOC, text);
    const committed = await readFile(DOC, 'utf8').catch(() => '(missing)');
    expect(committed, 'docs/bad-input.md is stale: rerun with CFA_UPDATE_DOCS=1').toBe(text);
  });
});
