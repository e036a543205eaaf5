import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCfa } from './program';

describe('runCfa: what a failing command prints', () => {
  afterEach(() => {
    process.exitCode = undefined;
    vi.restoreAllMocks();
  });

  it('names the error of a failed child process (its numeric code is an exit status, not a commander code)', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const program = new Command('cfa').exitOverride();
    program.command('fail').action(() => {
      throw Object.assign(new Error('Command failed: python3 bench_reference.py\nTraceback: boom'), { code: 1 });
    });
    await runCfa(['fail'], program);
    expect(process.exitCode).toBe(1);
    expect(stderr.mock.calls.map((c) => String(c[0])).join('')).toContain(
      'error: Command failed: python3 bench_reference.py',
    );
  });

  it("leaves commander's own usage errors to commander, with its exit status", async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const program = new Command('cfa').exitOverride().configureOutput({ writeErr: () => undefined });
    program.command('ok').action(() => undefined);
    await runCfa(['nope'], program);
    expect(process.exitCode).toBe(1);
    expect(stderr).not.toHaveBeenCalled();
  });
});
