/**
 * `bench`: the speed table — resnet18 and wide_resnet50_2 at 224, batch 4, on the embedded
 * default, with each method's default config (CFA's `CfaConfig`, PatchCore's `PatchCoreConfig`,
 * PaDiM's `PadimConfig`, FYD's `FydConfig`: fyd-rows.ts) — for each engine, and with `--reference` the PyTorch reference on the
 * same images and weights in the same invocation (`REFERENCE_SCRIPTS`: CFA's rows from
 * bench_reference.py, FYD's too, from our PyTorch statement; PatchCore's and PaDiM's from their authors' code itself, given its checkout in
 * PATCHCORE_OFFICIAL_DIR / PADIM_REFERENCE_DIR), with the ratio ours / PyTorch for every row.
 * Writes JSON and markdown and logs them to MLflow as a run.
 *
 * `--methods crad` (not in the default list): CRAD's rows (bench/crad-rows.ts: training epoch and
 * inference from MFCN features, per engine) on its own view, at the reduced size
 * experiments/crad.yaml runs (128 px, 4 × 216 bottlenecks), and with `--reference` the CRAD
 * reference module timed on the same features.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Command, Option } from 'commander';
import { describeEngine, type EngineSelection, selectEngine } from '@cfa/tensor-runtime';
import { ensureSyntheticDataset, indexCategory, loadSamples, type View, ViewSchema } from '@cfa/data';
import { type BackboneModel, encodeSafetensors, featureShapesFor, loadBackbone } from '@cfa/backbone';
import { CfaConfigSchema } from '@cfa/cfa';
import { PatchCoreConfigSchema } from '@cfa/patchcore';
import { type CradConfig, CradConfigSchema } from '@cfa/crad';
import { createMfcnEmbedder } from '@cfa/descriptor';
import { memoryEmbeddingSet } from '@cfa/method-kit';
import { createTrackingStore } from '@cfa/tracking';
import { resolveExperiment } from '../tracking/experiment-target';
import { runSource, runSourceTags } from '../tracking/run-source';
import { CFA_TAGS } from '../tracking/tracked-cell';
import { createLogger } from './logger';
import { positiveInt } from './common-options';
import { type BenchRow, benchEngine } from '../bench/bench-rows';
import { fydRows } from '../bench/fyd-rows';
import { padimRows } from '../bench/padim-rows';
import { patchCoreRows } from '../bench/patchcore-rows';
import { assertGaussiansFit, PadimConfigSchema } from '@cfa/padim';
import { benchCradEngine } from '../bench/crad-rows';
import { DEFAULT_SYNTHETIC_ROOT } from '../run/run-config';
import { formatTable } from '../report/text-table';

const run = promisify(execFile);
/** tools/torch-reference, where the PyTorch side of `--reference` lives. */
const REFERENCE_DIR = fileURLToPath(new URL('../../../../tools/torch-reference/', import.meta.url));

const BENCH_METHODS = ['cfa', 'patchcore', 'padim', 'fyd', 'crad'] as const;
/** What `--methods` times by default: CRAD's TensorFlow.js epoch alone takes minutes, so it is asked for by name. */
const DEFAULT_BENCH_METHODS = BENCH_METHODS.filter((m) => m !== 'crad');
type BenchMethod = (typeof BENCH_METHODS)[number];

/** Per method, the script under tools/torch-reference that times its reference, and the checkout it needs. */
const REFERENCE_SCRIPTS: Record<Exclude<BenchMethod, 'crad'>, { script: string; env?: string; checkout?: string }> = {
  cfa: { script: 'bench_reference.py' },
  patchcore: {
    script: 'patchcore_bench_reference.py',
    env: 'PATCHCORE_OFFICIAL_DIR',
    checkout: 'amazon-science/patchcore-inspection at fcaa92f124fb',
  },
  // FYD has no authors' code: its rows are our PyTorch statement's (fyd_reference.py), timed by CFA's script
  fyd: { script: 'bench_reference.py' },
  padim: {
    script: 'padim_bench_reference.py',
    env: 'PADIM_REFERENCE_DIR',
    checkout: 'xiahaifeng1995/PaDiM-Anomaly-Detection-Localization-master at 616004b9b7fa',
  },
};

interface BenchOptions {
  backbones: string;
  methods: string;
  engines: string;
  images: number;
  reference?: boolean;
  python: string;
  out: string;
  trackingUri?: string;
  threads?: number;
}

/** CRAD as experiments/crad.yaml runs it on 2 CPU cores (the authors' full size: 224 px, 11 × 864). */
const BENCH_CRAD = { view: { kind: 'resize', size: 128 }, decoder: { layers: 4, expansion: 216 } } as const;

type BenchResults = Record<string, Record<string, BenchRow[] | Record<string, number>>>;

export function benchCommand(): Command {
  return new Command('bench')
    .description('speed table per engine (and against PyTorch with --reference); see docs/benchmarks.md')
    .option('--backbones <list>', 'backbones', 'resnet18,wide_resnet50_2')
    .option('--engines <list>', 'engines to time (ort, tfjs)', 'ort,tfjs')
    .option(
      '--methods <list>',
      `methods to time (${BENCH_METHODS.join(', ')}; crad: CRAD at experiments/crad.yaml's size, on its own view and features)`,
      DEFAULT_BENCH_METHODS.join(','),
    )
    .option('--images <n>', 'images for the epoch and throughput rows (a multiple of 4)', positiveInt, 16)
    .option(
      '--reference',
      'also time the PyTorch reference (needs apt-get install python3-torch python3-torchvision python3-scipy)',
    )
    .option('--python <path>', 'Python with torch for --reference', '/usr/bin/python3')
    .option('--out <dir>', 'where bench.json and bench.md go', 'runs/bench')
    .addOption(new Option('--tracking-uri <uri>', 'MLflow (default ./mlruns)').env('MLFLOW_TRACKING_URI'))
    .option('--threads <n>', 'threads for ONNX Runtime and PyTorch', positiveInt)
    .action(async (options: BenchOptions) => {
      const log = createLogger();
      const images = Math.max(4, options.images - (options.images % 4));
      const methods = options.methods.split(',') as BenchMethod[];
      for (const m of methods)
        if (!BENCH_METHODS.includes(m))
          throw new Error(`--methods: unknown method '${m}' (expected some of ${BENCH_METHODS.join(', ')})`);
      // the classic weave: the images every benchmark so far timed
      await ensureSyntheticDataset({ root: DEFAULT_SYNTHETIC_ROOT, categories: ['weave'] });
      const index = await indexCategory({ root: DEFAULT_SYNTHETIC_ROOT, category: 'weave' });
      /** The bench images through a view, [images, size, size, 3]. */
      const viewedImages = async (view: View) => {
        const samples = await loadSamples(index.train.slice(0, images), view);
        const size = samples[0].width;
        const pixels = new Float32Array(images * size * size * 3);
        samples.forEach((s, i) => pixels.set(s.image, i * size * size * 3));
        return { pixels, size };
      };
      const dir = await mkdtemp(join(tmpdir(), 'bench-'));
      const results: BenchResults = {};
      const described: string[] = [];
      const settings: string[] = [];
      const cradConfig = CradConfigSchema.parse(BENCH_CRAD);
      if (methods.includes('crad')) {
        // the CRAD reference reads the MFCN features benchCrad writes, not the images
        const crad = await viewedImages(cradConfig.view);
        await benchCrad({ options, config: cradConfig, ...crad, images, dir, results, described, log: log.info });
        settings.push(
          `CRAD ${cradConfig.decoder.layers}×${cradConfig.decoder.expansion} bottlenecks, ${crad.size} input, batch ${cradConfig.training.batchSize}`,
        );
      }
      const others = methods.filter((m): m is Exclude<BenchMethod, 'crad'> => m !== 'crad');
      const { pixels, size } = others.length
        ? await viewedImages(ViewSchema.parse({ kind: 'center-crop' }))
        : { pixels: new Float32Array(0), size: 0 };
      if (others.length) {
        settings.push('224 input, batch 4');
        // what the PyTorch side of CFA's, PatchCore's, PaDiM's and FYD's rows reads
        await writeFile(
          join(dir, 'images.safetensors'),
          encodeSafetensors(new Map([['images', { shape: [images, size, size, 3], data: pixels }]])),
        );
      }
      for (const name of others.length ? options.backbones.split(',') : []) {
        // what a run of this backbone uses: the same weights, seed and settings as train-eval's default
        const config = CfaConfigSchema.parse({ backbone: { name } });
        // bench_reference.py (CFA's rows, and FYD's from our PyTorch statement) reads this weight file
        const backbone =
          methods.includes('cfa') || methods.includes('fyd')
            ? await loadBackbone({ name, seed: config.seed, calibrateBatchNorm: config.backbone.calibrateBatchNorm })
            : undefined;
        if (backbone) await writeFile(join(dir, `${name}.safetensors`), encodeSafetensors(backbone.weights));
        // PatchCore and PaDiM read torchvision's taps of the same architecture, seeded like their runs
        const patchcoreConfig = PatchCoreConfigSchema.parse({ backbone: { name } });
        let torchvision: BackboneModel | undefined;
        const torchvisionBackbone = async () => {
          torchvision ??= await loadBackbone({
            name,
            taps: 'torchvision',
            seed: patchcoreConfig.seed,
            calibrateBatchNorm: patchcoreConfig.backbone.calibrateBatchNorm,
          });
          return torchvision;
        };
        const patchcoreBackbone = methods.includes('patchcore') ? await torchvisionBackbone() : undefined;
        results[name] = {};
        const timed: EngineSelection[] = [];
        for (const engineName of options.engines.split(',')) {
          const engine = await selectEngine({ requested: engineName, threads: options.threads });
          timed.push(engine);
          described.push(describeEngine(engine));
          log.info(`${name}: timing ${describeEngine(engine)}`);
          const common = { engine, images: pixels, count: images, size, log: log.info };
          results[name][engineName] = [
            ...(backbone && methods.includes('cfa') ? await benchEngine({ ...common, backbone, config }) : []),
            ...(patchcoreBackbone
              ? await patchCoreRows({ ...common, backbone: patchcoreBackbone, config: patchcoreConfig })
              : []),
          ];
          // FYD reads torchvision's taps of the same weights
          if (methods.includes('fyd'))
            results[name][engineName].push(...(await fydRows({ ...common, backbone: await torchvisionBackbone() })));
        }
        // PaDiM with its defaults (torchvision's taps, the reference code's d) where its Gaussians fit
        const padimConfig = PadimConfigSchema.safeParse({ backbone: { name } });
        const padimBackbone =
          padimConfig.success && methods.includes('padim') ? await torchvisionBackbone() : undefined;
        let padimSkipped = !methods.includes('padim')
          ? 'not in --methods'
          : padimConfig.success
            ? undefined
            : 'no reference d for this backbone';
        if (padimConfig.success && padimBackbone) {
          const [grid] = featureShapesFor(padimBackbone, size);
          try {
            assertGaussiansFit(padimConfig.data, { ...grid, label: name });
          } catch (error) {
            padimSkipped = (error as Error).message;
          }
          if (!padimSkipped) {
            for (const engine of timed)
              (results[name][engine.name] as BenchRow[]).push(
                ...(await padimRows({
                  engine,
                  backbone: padimBackbone,
                  config: padimConfig.data,
                  images: pixels,
                  count: images,
                  size,
                  log: log.info,
                })),
              );
          }
        }
        if (padimSkipped) log.info(`${name}: no PaDiM rows (${padimSkipped})`);
        if (torchvision)
          await writeFile(join(dir, `${name}-torchvision.safetensors`), encodeSafetensors(torchvision.weights));
        if (options.reference) {
          log.info(`${name}: timing the PyTorch reference`);
          // the same thread count as our engine, or the comparison says nothing (Debian's torch defaults to 1 here)
          const threads = options.threads ?? Math.max(...timed.map((e) => e.threads));
          const reference = async (script: string) => {
            const args = [join(REFERENCE_DIR, script), dir, name, '--threads', String(threads)];
            const { stdout } = await run(options.python, args, {
              cwd: REFERENCE_DIR,
              maxBuffer: 1 << 20,
              timeout: 3_600_000,
            });
            return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
          };
          results[name].pytorch = {};
          const scriptsRun = new Set<string>();
          for (const method of others) {
            const { script, env, checkout } = REFERENCE_SCRIPTS[method];
            if ((method === 'padim' && padimSkipped) || scriptsRun.has(script)) continue;
            scriptsRun.add(script);
            if (env && !process.env[env]) {
              log.warn(`${method}: no ${env} (a checkout of ${checkout}): its reference rows stay empty`);
              continue;
            }
            log.info(`${name}: timing the ${method} reference (${script}${env ? `, ${process.env[env]}` : ''})`);
            Object.assign(results[name].pytorch, await reference(script));
          }
        }
      }
      const engines = options.engines.split(',');
      const headers = [
        'backbone',
        'row',
        'unit',
        ...engines,
        ...(options.reference ? ['PyTorch', ...engines.map((e) => `${e} / PyTorch`)] : []),
      ];
      const body: string[][] = [];
      for (const [name, byEngine] of Object.entries(results)) {
        const first = byEngine[engines[0]] as BenchRow[];
        for (const row of first) {
          const values = engines.map((e) => (byEngine[e] as BenchRow[]).find((r) => r.key === row.key)?.value);
          const ref = options.reference ? (byEngine.pytorch as Record<string, number>)[row.key] : undefined;
          const fmt = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(2));
          body.push([
            name,
            row.label,
            row.unit,
            ...values.map(fmt),
            ...(options.reference
              ? [fmt(ref), ...values.map((v) => (v !== undefined && ref ? `${(v / ref).toFixed(2)}×` : '—'))]
              : []),
          ]);
        }
      }
      const rss = process.resourceUsage().maxRSS / 1024;
      const note = `peak RSS ${rss.toFixed(0)} MiB; ${[...new Set(described)].join(' | ')}; ${images} images, ${settings.join('; ')}${options.reference ? `; PyTorch ${JSON.stringify(Object.values(results)[0].pytorch && (Object.values(results)[0].pytorch as Record<string, number>).threads)} threads` : ''}`;
      const markdown = `${formatTable(headers, body, { markdown: true })}\n\n${note}\n`;
      process.stdout.write(`\n${formatTable(headers, body)}\n\n${note}\n`);
      await mkdir(options.out, { recursive: true });
      await writeFile(join(options.out, 'bench.md'), markdown);
      await writeFile(
        join(options.out, 'bench.json'),
        `${JSON.stringify({ results, peakRssMiB: rss, note }, null, 2)}\n`,
      );
      const store = createTrackingStore({ uri: options.trackingUri });
      const exp = await resolveExperiment(store, 'bench');
      const source = await runSource();
      const mlrun = await store.createRun({
        experimentId: exp,
        runName: `bench ${new Date().toISOString().slice(0, 16)}`,
        userId: source.user,
        tags: { ...runSourceTags(source), 'cfa.engines': options.engines, [CFA_TAGS.weights]: 'random' },
      });
      const metrics = Object.entries(results).flatMap(([name, byEngine]) =>
        Object.entries(byEngine).flatMap(([engine, rows]) =>
          (Array.isArray(rows)
            ? rows.map((r) => [r.key, r.value] as const)
            : Object.entries(rows).filter(([, v]) => typeof v === 'number')
          ).map(([k, v]) => ({ key: `${name}/${engine}/${k}`, value: Number(v), timestamp: Date.now(), step: 0 })),
        ),
      );
      await store.logBatch(mlrun.info.runId, {
        metrics: [...metrics, { key: 'peak_rss_mib', value: rss, timestamp: Date.now(), step: 0 }],
      });
      await store.logArtifact(mlrun.info.runId, 'bench.md', markdown);
      await store.updateRun({ runId: mlrun.info.runId, status: 'FINISHED', endTime: Date.now() });
      await store.close();
      log.info(
        `wrote ${join(options.out, 'bench.md')} and bench.json; logged run ${mlrun.info.runId} to ${store.location}`,
      );
    });
}

/** CRAD's rows: MFCN features embedded once (ONNX Runtime), then each engine; the reference on the same features. */
async function benchCrad(o: {
  options: BenchOptions;
  config: CradConfig;
  pixels: Float32Array;
  images: number;
  size: number;
  dir: string;
  results: BenchResults;
  described: string[];
  log: (line: string) => void;
}): Promise<void> {
  const { options, config, pixels, images, size, dir, results, described, log } = o;
  const backbone = await loadBackbone({
    name: config.backbone.name,
    taps: config.backbone.taps,
    seed: config.seed,
    calibrateBatchNorm: config.backbone.calibrateBatchNorm,
  });
  const embedEngine = await selectEngine({ requested: 'ort', threads: options.threads });
  const embedder = await createMfcnEmbedder({ engine: embedEngine, backbone, inputSize: size });
  const features = await embedder.embed(pixels, images);
  await embedder.release();
  const { height, width, channels } = embedder.level;
  const set = memoryEmbeddingSet(
    features.map((_, i) => `bench/${i}`),
    features,
    [embedder.level],
  );
  const all = new Float32Array(images * height * width * channels);
  features.forEach((f, i) => all.set(f, i * f.length));
  await writeFile(
    join(dir, 'crad.features.safetensors'),
    encodeSafetensors(new Map([['features', { shape: [images, height, width, channels], data: all }]])),
  );
  await writeFile(
    join(dir, 'crad.settings.json'),
    JSON.stringify({
      decoder: config.decoder,
      memory: config.memory,
      training: config.training,
      scoring: config.scoring,
      size,
    }),
  );
  // a metric-key-safe name (MLflow keys allow letters, digits, _ - . space : /)
  const name = `crad ${config.backbone.name} MFCN ${height}x${width}x${channels}`;
  results[name] = {};
  const timed: EngineSelection[] = [];
  for (const engineName of options.engines.split(',')) {
    const engine = await selectEngine({ requested: engineName, threads: options.threads });
    timed.push(engine);
    described.push(describeEngine(engine));
    log(`${name}: timing ${describeEngine(engine)}`);
    results[name][engineName] = await benchCradEngine({ engine, config, set, inputSize: size, log });
  }
  if (options.reference) {
    log(`${name}: timing the CRAD reference module (CRAD_OFFICIAL_DIR)`);
    const threads = options.threads ?? Math.max(...timed.map((e) => e.threads));
    const args = [join(REFERENCE_DIR, 'crad_bench_reference.py'), dir, '--threads', String(threads)];
    const { stdout } = await run(options.python, args, { cwd: REFERENCE_DIR, maxBuffer: 1 << 20, timeout: 3_600_000 });
    results[name].pytorch = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, number>;
  }
}
