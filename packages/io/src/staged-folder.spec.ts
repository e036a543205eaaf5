import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkOutputApart } from './output-folder';
import { lockOwner } from './process-lock';
import { outputFolderLockPath, withStagedFolder } from './staged-folder';

const OUTPUTS = ['result.json', 'model', 'scores.csv'];
const options = { what: '--out', outputs: OUTPUTS };

/** A run's outputs, written as a run does: the model first, the result last. */
async function writeRun(dir: string, tag: string): Promise<void> {
  await mkdir(join(dir, 'model'));
  await writeFile(join(dir, 'model', 'weights'), tag);
  await writeFile(join(dir, 'result.json'), tag);
}

async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile())
      out[join(e.parentPath, e.name).slice(dir.length + 1)] = await readFile(join(e.parentPath, e.name), 'utf8');
  return out;
}

describe('withStagedFolder: a run’s outputs appear together or not at all', () => {
  it('a rerun replaces the whole folder (no file of the old run stays); a failing one leaves the old run untouched', async () => {
    const root = await mkdtemp(join(tmpdir(), 'staged-'));
    const out = join(root, 'run');
    await withStagedFolder(
      out,
      async (d) => (await writeRun(d, 'one'), writeFile(join(d, 'scores.csv'), 'one')),
      options,
    );
    await withStagedFolder(out, (d) => writeRun(d, 'two'), options);
    expect(await contents(out)).toEqual({ 'model/weights': 'two', 'result.json': 'two' });
    const error = await withStagedFolder(
      out,
      async (d) => {
        await mkdir(join(d, 'model'));
        await writeFile(join(d, 'model', 'weights'), 'three');
        throw new Error('ENOSPC while writing result.json');
      },
      options,
    ).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/ENOSPC/);
    expect(await contents(out)).toEqual({ 'model/weights': 'two', 'result.json': 'two' });
    // nothing but the folder is left beside it: no staging folder, no lock
    expect(await readdir(root)).toEqual(['run']);
  });

  it('refuses a folder holding files it does not write, and a second writer while the first holds the lock', async () => {
    const root = await mkdtemp(join(tmpdir(), 'staged-'));
    await writeFile(join(root, 'notes.txt'), 'mine');
    await expect(withStagedFolder(root, (d) => writeRun(d, 'x'), options)).rejects.toThrow(
      /--out .*: holds 'notes\.txt', which this command does not write; .*choose a new or empty folder/,
    );
    expect(await readdir(root)).toEqual(['notes.txt']);
    const out = join(root, 'run');
    let release!: () => void;
    const first = withStagedFolder(out, () => new Promise<void>((r) => (release = r)), options);
    await new Promise((r) => setTimeout(r, 50));
    expect((await lockOwner(outputFolderLockPath(out)))?.pid).toBe(process.pid);
    await expect(withStagedFolder(out, (d) => writeRun(d, 'b'), options)).rejects.toThrow(
      new RegExp(`another run is writing this folder — process ${process.pid}`),
    );
    release();
    await first;
  });

  it('an --out that is, lies inside or holds a folder the command reads is refused (symlinks followed)', async () => {
    const root = await mkdtemp(join(tmpdir(), 'staged-'));
    const model = join(root, 'run', 'model');
    await mkdir(model, { recursive: true });
    const inputs = [{ what: '--model', path: model }];
    await expect(checkOutputApart({ what: '--out', path: model }, inputs)).rejects.toThrow(/: is --model /);
    await expect(checkOutputApart({ what: '--out', path: join(model, 'p') }, inputs)).rejects.toThrow(
      /lies inside --model/,
    );
    await expect(checkOutputApart({ what: '--out', path: join(root, 'run') }, inputs)).rejects.toThrow(/holds --model/);
    const { symlink } = await import('node:fs/promises');
    await symlink(join(root, 'run'), join(root, 'link'));
    await expect(checkOutputApart({ what: '--out', path: join(root, 'link', 'model', 'x') }, inputs)).rejects.toThrow(
      /lies inside --model/,
    );
    await checkOutputApart({ what: '--out', path: join(root, 'elsewhere') }, inputs);
  });

  it('Ctrl-C mid-run: the process still dies by the signal, the staging folder and temp files are removed, the old run stays', async () => {
    const root = await mkdtemp(join(tmpdir(), 'staged-'));
    const out = join(root, 'run');
    await withStagedFolder(out, (d) => writeRun(d, 'old'), options);
    const script = join(root, 'interrupted.mts');
    const io = fileURLToPath(new URL('./index.ts', import.meta.url));
    await writeFile(
      script,
      `import { join } from 'node:path';
       import { writeFileSync } from 'node:fs';
       import { removeOnExit, withStagedFolder } from ${JSON.stringify(io)};
       removeOnExit(${JSON.stringify(join(root, '.tmp-loose'))});
       writeFileSync(${JSON.stringify(join(root, '.tmp-loose'))}, 'x');
       await withStagedFolder(${JSON.stringify(out)}, async (d) => {
         writeFileSync(join(d, 'result.json'), 'new');
         process.stdout.write('ready\\n');
         await new Promise(() => setInterval(() => undefined, 1000));
       }, { what: '--out', outputs: ['result.json', 'model'] });`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    const ready = await new Promise<boolean>((resolve) => {
      child.stdout.on('data', (b: Buffer) => b.includes('ready') && resolve(true));
      child.once('exit', () => resolve(false));
    });
    expect(ready, 'the child started its run').toBe(true);
    expect((await readdir(root)).some((n) => n.startsWith('.run.staging-'))).toBe(true);
    const ended = new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])));
    child.kill('SIGINT');
    const [code, signal] = await ended;
    expect(signal === 'SIGINT' || code === 130, `exit ${code} ${signal}`).toBe(true);
    const left = (await readdir(root)).filter((n) => n !== 'interrupted.mts');
    // the lock of the killed process may stay: its holder is gone, so the next writer takes it over
    expect(left.filter((n) => n !== '.run.lock')).toEqual(['run']);
    expect(await contents(out)).toEqual({ 'model/weights': 'old', 'result.json': 'old' });
    await withStagedFolder(out, (d) => writeRun(d, 'next'), options);
    await rm(script);
    expect(await readdir(root)).toEqual(['run']);
  });
});
