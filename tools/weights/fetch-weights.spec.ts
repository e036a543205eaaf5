import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChecksumError, fetchWeights } from './fetch-weights';

const payload = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
const prefix = createHash('sha256').update(payload).digest('hex').slice(0, 8);
let server: Server;
let base: string;
let truncateNext = 0;
const ranges: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const range = req.headers.range;
    ranges.push(range ?? 'none');
    const start = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const body = req.url?.startsWith('/bad') ? Buffer.from('definitely not the weights') : payload.subarray(start);
    res.writeHead(range ? 206 : 200, {
      'content-length': body.length,
      ...(range ? { 'content-range': `bytes ${start}-${payload.length - 1}/${payload.length}` } : {}),
    });
    if (truncateNext > 0) {
      truncateNext--;
      res.write(body.subarray(0, Math.floor(body.length / 3)));
      setTimeout(() => res.destroy(), 20);
      return;
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const source = (path: string) => ({
  backbone: 'resnet18',
  url: `${base}${path}`,
  file: `resnet18-${prefix}.pth`,
  sha256Prefix: prefix,
});

describe('fetchWeights (against a local HTTP server)', () => {
  it('downloads, verifies the hash from the file name and caches; a second call does not download', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weights-'));
    let progress = 0;
    const path = await fetchWeights({
      backbone: 'resnet18',
      cacheDir: dir,
      source: source('/w.pth'),
      onProgress: (r) => (progress = r),
    });
    expect(await readFile(path)).toEqual(payload);
    expect(progress).toBe(payload.length);
    const before = ranges.length;
    expect(await fetchWeights({ backbone: 'resnet18', cacheDir: dir, source: source('/w.pth') })).toBe(path);
    expect(ranges.length).toBe(before);
  });

  it('resumes a truncated transfer with a Range request and ends with the exact file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weights-'));
    truncateNext = 2;
    ranges.length = 0;
    const path = await fetchWeights({ backbone: 'resnet18', cacheDir: dir, source: source('/w.pth'), attempts: 5 });
    expect(await readFile(path)).toEqual(payload);
    expect(ranges[0]).toBe('none');
    expect(ranges.slice(1).every((r) => /^bytes=\d+-$/.test(r))).toBe(true);
    expect(ranges).toHaveLength(3);
  });

  it('a checksum mismatch is an error naming the file, and nothing is left in the cache', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weights-'));
    const error = await fetchWeights({ backbone: 'resnet18', cacheDir: dir, source: source('/bad.pth') }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChecksumError);
    expect((error as Error).message).toMatch(
      new RegExp(`bad\\.pth: sha256 [0-9a-f]{64} does not start with ${prefix}`),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('--from-file takes a local file only when its hash matches', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'weights-'));
    const good = join(dir, 'downloaded-by-hand.pth');
    await writeFile(good, payload);
    const cache = join(dir, 'cache');
    expect(
      await readFile(
        await fetchWeights({ backbone: 'resnet18', cacheDir: cache, source: source('/x'), fromFile: good }),
      ),
    ).toEqual(payload);
    const wrong = join(dir, 'wrong.pth');
    await writeFile(wrong, 'nope');
    await expect(
      fetchWeights({ backbone: 'resnet18', cacheDir: join(dir, 'c2'), source: source('/x'), fromFile: wrong }),
    ).rejects.toThrow(/wrong\.pth: sha256/);
  });

  it('names the backbones it knows', async () => {
    await expect(fetchWeights({ backbone: 'alexnet' })).rejects.toThrow(
      /no standard weights for 'alexnet': expected one of resnet18, wide_resnet50_2, vgg19, vgg19_bn, efficientnet_b5/,
    );
  });
});
