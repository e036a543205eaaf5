import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { codeVersion } from './code-version';

async function checkout(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'checkout-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
  return root;
}

const BASE = {
  'packages/cfa/src/fit.ts': 'export const lr = 1e-3;\n',
  'packages/metrics/src/roc.ts': 'export const roc = 1;\n',
  'apps/experiments/src/run/run-cell.ts': 'export const cell = 1;\n',
  'packages/cfa/src/fit.spec.ts': 'test\n',
  'apps/experiments/src/report/table.ts': 'layout\n',
  'packages/tracking/src/rest-store.ts': 'client\n',
  'README.md': 'docs\n',
};

describe('codeVersion: a hash of the sources that compute results', () => {
  it('changes when a source that computes changes; not for docs, tests, reports or tracking', async () => {
    const base = (await codeVersion(await checkout(BASE))).hash;
    expect(base).toMatch(/^[0-9a-f]{16}$/);
    expect((await codeVersion(await checkout(BASE))).files).toBe(3);
    const same: Record<string, string>[] = [
      { 'README.md': 'other docs\n' },
      { 'packages/cfa/src/fit.spec.ts': 'other test\n' },
      { 'apps/experiments/src/report/table.ts': 'other layout\n' },
      { 'packages/tracking/src/rest-store.ts': 'other client\n' },
    ];
    for (const change of same) expect((await codeVersion(await checkout({ ...BASE, ...change }))).hash).toBe(base);
    const different: Record<string, string>[] = [
      { 'packages/cfa/src/fit.ts': 'export const lr = 1e-4;\n' },
      { 'packages/metrics/src/roc.ts': 'export const roc = 2;\n' },
      { 'apps/experiments/src/run/run-cell.ts': 'export const cell = 2;\n' },
      { 'packages/scoring/src/new-loss.ts': 'export const added = 1;\n' },
    ];
    for (const change of different)
      expect((await codeVersion(await checkout({ ...BASE, ...change }))).hash).not.toBe(base);
  });
});
