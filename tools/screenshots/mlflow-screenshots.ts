/**
 * Pictures of what `nx run experiments:ablation-loss` produces, for the README: starts the real
 * MLflow server on a store (or uses a running one, `--tracking-uri`, with the credentials of
 * `MLFLOW_TRACKING_USERNAME` / `_PASSWORD`), opens the sweep's experiment in headless Chromium
 * (Debian's `chromium`, driven by playwright-core), expands the parent run to show its nested
 * children, opens one child's metric charts, and one child's overview — who ran it, from which
 * source and commit, on which datasets — and MLflow 3's Models tab: every cell's logged model with
 * its metrics and the dataset they were measured on, and one model's page with its run and
 * dataset. Writes docs/mlflow-runs.png, docs/mlflow-metrics.png, docs/mlflow-run-source.png,
 * docs/mlflow-models.png and docs/mlflow-model.png (`--shots` picks).
 *
 *   npx nx run tools:screenshots -- [--store ./mlruns] [--experiment ablation-loss]
 *   MLFLOW_TRACKING_USERNAME=admin MLFLOW_TRACKING_PASSWORD=… npx nx run tools:screenshots -- \
 *     --tracking-uri http://127.0.0.1:5000 --experiment compression-sweep --shots run-source
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { chromium, type Page } from 'playwright-core';
import {
  FileTrackingStore,
  RestTrackingStore,
  searchAllLoggedModels,
  searchAllRuns,
  type TrackingStore,
} from '@cfa/tracking';
import { findServeScript, startRealMlflow } from '@cfa/tracking/testing';

const SHOTS = ['runs', 'metrics', 'run-source', 'models', 'model'];

/** MLflow's first-visit dialogs (the experiment type, tips), answered so that they hide nothing. */
async function dismissDialogs(page: Page): Promise<void> {
  for (const label of ['Confirm', 'Got it', 'Close']) {
    const b = page.getByRole('button', { name: label });
    if (await b.count())
      await b
        .first()
        .click()
        .catch(() => undefined);
  }
}

interface Options {
  store: string;
  trackingUri?: string;
  experiment: string;
  out: string;
  chromium: string;
  shots: string;
}

const program = new Command('screenshots')
  .option('--store <dir>', 'MLflow file store', 'mlruns')
  .option(
    '--tracking-uri <url>',
    'a running MLflow server instead (credentials from MLFLOW_TRACKING_USERNAME / _PASSWORD)',
  )
  .option('--experiment <name>', 'experiment (sweep) to show', 'ablation-loss')
  .option('--out <dir>', 'where the PNGs go', 'docs')
  .option('--chromium <path>', 'browser', '/usr/bin/chromium')
  .option('--shots <list>', `which pictures: ${SHOTS.join(', ')}`, SHOTS.join(','))
  .action(async (options: Options) => {
    const shots = new Set(options.shots.split(','));
    const store: TrackingStore = options.trackingUri
      ? new RestTrackingStore({ uri: options.trackingUri, env: process.env })
      : new FileTrackingStore(options.store);
    const exp = await store.getExperimentByName(options.experiment);
    if (!exp)
      throw new Error(
        `${store.location} has no experiment '${options.experiment}': run nx run experiments:${options.experiment} first`,
      );
    const runs = await searchAllRuns(store, { experimentIds: [exp.experimentId] });
    const child =
      runs.find((r) => r.data.tags['mlflow.parentRunId'] && r.data.params['loss.terms'] === 'att+rep') ??
      runs.find((r) => r.data.tags['mlflow.parentRunId']);
    if (!child) throw new Error(`no child run in '${options.experiment}'`);
    const { script, reason } = findServeScript();
    if (!options.trackingUri && !script) throw new Error(`cannot start MLflow: ${reason}`);
    const server = options.trackingUri
      ? { url: store.location, stop: async () => undefined }
      : await startRealMlflow(script!, resolve(options.store));
    const username = process.env.MLFLOW_TRACKING_USERNAME;
    const password = process.env.MLFLOW_TRACKING_PASSWORD;
    const browser = await chromium.launch({
      executablePath: options.chromium,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
      ],
    });
    try {
      await mkdir(options.out, { recursive: true });
      const page = await browser.newPage({
        viewport: { width: 1500, height: 860 },
        ...(options.trackingUri && username && password ? { httpCredentials: { username, password } } : {}),
      });
      if (shots.has('models') || shots.has('model')) {
        const models = await searchAllLoggedModels(store, { experimentIds: [exp.experimentId] });
        const model = models.find((m) => m.status === 'READY' && m.sourceRunId === child.info.runId) ?? models[0];
        if (!model)
          throw new Error(`no logged model in '${options.experiment}': run the sweep with this version first`);
        if (shots.has('models')) {
          // the Models tab: one row per cell's model, its metrics (on their dataset) as columns
          // MLflow 3.6 opens an experiment on its runs and asks for the experiment type first: answer,
          // then click the Models tab (the tab's own URL opens the runs table on this version)
          await page.goto(`${server.url}/#/experiments/${exp.experimentId}`);
          await page.getByText('Run Name').first().waitFor({ timeout: 60_000 });
          await dismissDialogs(page);
          await page.getByText('Models', { exact: true }).first().click();
          await page.getByText(model.name).first().waitFor({ timeout: 60_000 });
          await page.mouse.move(5, 840);
          await page.waitForTimeout(3_000);
          await page.screenshot({ path: join(options.out, 'mlflow-models.png') });
          process.stdout.write(`wrote ${join(options.out, 'mlflow-models.png')}\n`);
        }
        if (shots.has('model')) {
          // one model's page: its source run, its params, its metrics with the dataset, its registrations
          await page.goto(`${server.url}/#/experiments/${exp.experimentId}/models/${model.modelId}`);
          await page.getByText(model.name).first().waitFor({ timeout: 60_000 });
          await page.mouse.move(5, 840);
          await page.waitForTimeout(3_000);
          await page.screenshot({ path: join(options.out, 'mlflow-model.png'), fullPage: true });
          process.stdout.write(`wrote ${join(options.out, 'mlflow-model.png')}\n`);
        }
      }
      if (shots.has('run-source')) {
        // the child's overview: Created by, Source (script, branch, commit), Datasets, tags
        await page.goto(`${server.url}/#/experiments/${exp.experimentId}/runs/${child.info.runId}`);
        await page.getByText('About this run').first().waitFor({ timeout: 60_000 });
        await page
          .getByText(child.inputs.datasetInputs[0]?.dataset.name ?? 'Datasets')
          .first()
          .waitFor({ timeout: 60_000 });
        await page.mouse.move(5, 840);
        await page.waitForTimeout(3_000);
        await page.screenshot({ path: join(options.out, 'mlflow-run-source.png') });
        process.stdout.write(`wrote ${join(options.out, 'mlflow-run-source.png')}\n`);
      }
      if (!shots.has('runs') && !shots.has('metrics')) return;
      await page.goto(`${server.url}/#/experiments/${exp.experimentId}`);
      await page.getByText('Run Name').first().waitFor({ timeout: 60_000 });
      await dismissDialogs(page);
      // expand the parent run (the +/− button in its name cell): its nested children appear under it
      const expander = page.locator('button[data-component-id*="runnamecellrenderer"]').first();
      await expander.waitFor({ timeout: 30_000 });
      await expander.click();
      await page.getByText(child.info.runName).first().waitFor({ timeout: 30_000 });
      // widen the Run Name column so that the cell names (the sweep's axes) can be read
      const header = page.locator('.ag-header-cell').filter({ hasText: 'Run Name' }).first();
      const box = await header.boundingBox().catch(() => null);
      if (box) {
        const edge = { x: box.x + box.width - 2, y: box.y + box.height / 2 };
        await page.mouse.move(edge.x - 20, edge.y);
        await page.mouse.move(edge.x, edge.y, { steps: 4 });
        await page.mouse.down();
        await page.mouse.move(edge.x + 330, edge.y, { steps: 12 });
        await page.mouse.up();
      }
      await page.mouse.move(5, 840); // no tooltip in the picture
      await page.waitForTimeout(2_000);
      if (shots.has('runs')) await page.screenshot({ path: join(options.out, 'mlflow-runs.png') });
      if (shots.has('metrics')) {
        await page.goto(`${server.url}/#/experiments/${exp.experimentId}/runs/${child.info.runId}/model-metrics`);
        await page.getByText('train/loss').first().waitFor({ timeout: 60_000 });
        await page.waitForTimeout(3_000);
        await page.screenshot({ path: join(options.out, 'mlflow-metrics.png') });
      }
      process.stdout.write(
        `wrote ${[...shots]
          .filter((s) => s === 'runs' || s === 'metrics')
          .map((s) => join(options.out, `mlflow-${s}.png`))
          .join(' and ')}\n`,
      );
    } finally {
      await browser.close();
      await server.stop();
      await store.close();
    }
  });

program.parseAsync(process.argv).catch((error: Error) => {
  process.stderr.write(`error: ${error.message}\n`);
  process.exitCode = 1;
});
