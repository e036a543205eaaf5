import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSweep } from '../sweep/load-sweep';
import { sweepPlan } from './sweep-plan';
import { writeSweepFile } from '../testing/sweep-file';

describe('sweepPlan (--dry-run)', () => {
  it('shows the data, seeds, epochs, weights, the resolved base config, every cell and the table with the paper numbers', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plan-'));
    const file = await writeSweepFile(dir, {
      name: 'plan-demo',
      reproduces: 'Table 5 (demo)',
      categories: ['fleece', 'chip'],
      seeds: [0, 1],
      base: { training: { epochs: 2 } },
      axes: [{ grid: { 'loss.terms': ['none', 'att+rep'] } }],
      report: {
        columns: 'loss.terms',
        paper: { '-': { none: { imageAuroc: 83.7 }, 'att+rep': { imageAuroc: 98.9 } } },
      },
    });
    const loaded = await loadSweep(file);
    const kinds = new Map([
      ['fleece', 'texture' as const],
      ['chip', 'object' as const],
    ]);
    const plan = sweepPlan({ loaded, sweepKey: 'k123', kinds });
    expect(plan).toMatch(
      /^plan-demo — Table 5 \(demo\)\nsweep key k123; 8 cells = 2 categories × 2 seeds × 2 axis combinations/,
    );
    expect(plan).toMatch(/^data +embedded synthetic dataset in data\/synthetic/m);
    expect(plan).toMatch(/^categories +fleece \(texture\), chip \(object\)$/m);
    expect(plan).toMatch(/^seeds +0, 1 /m);
    expect(plan).toMatch(/^epochs +2$/m);
    expect(plan).toMatch(/^weights +seeded random init/m);
    expect(plan).toMatch(/^ +loss +terms=att\+rep ← axis, K=3/m);
    expect(plan).toMatch(/^ +training +epochs=2, batchSize=4/m);
    expect(plan).toMatch(/^ +grid +loss\.terms ∈ \{none, att\+rep\}$/m);
    for (const cell of loaded.cells) expect(plan).toContain(`  ${cell.key}  ${cell.name}`);
    expect(plan).toMatch(/^paper +83\.7 +98\.9$/m);
    expect(plan).toMatch(/^textures +— +— +— +—$/m);
    expect(plan).toContain('mean ± std over 2 seeds');
  });
});
