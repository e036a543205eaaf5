/**
 * Property-based tests of the image and mask readers (run by image-files.fuzz.spec.ts in a worker
 * under a watchdog): PNG and JPEG through the loader (`loadSample`, `readImageHeader`), masks
 * through `decodeMask`, on random bytes, truncations, mutations of valid files and headers that
 * claim huge sizes; masks in both conventions and in neither.
 *
 * The property, for every input: a well-formed result (an image of the view's size with finite
 * values, a 0/1 mask) or a `DatasetError` naming the file — never another error, a hang, or an
 * image past `MAX_IMAGE_PIXELS`. A binary mask reads as its non-zero pixels whatever its level
 * (0/255, 0/1, or another) and channels; a mask with two non-zero levels is refused.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import sharp from 'sharp';
import { byteEdits, checkProperties, type NoteInput, type PropertyOutcome, withByteEdits } from '@cfa/io/testing';
import { decodeMask, encodePng, MAX_IMAGE_PIXELS, readImageHeader } from './decode';
import { DatasetError } from './errors';
import { loadSample, type SampleRef } from './mvtec';
import { ViewSchema } from './view';
import { rgbPng } from './testing';

const dir = mkdtempSync(join(tmpdir(), 'image-fuzz-'));
const view = ViewSchema.parse({ kind: 'resize', size: 16 });

/** Resolves to the value, or to undefined for a DatasetError naming `path`; anything else throws. */
async function resultOrNamedError<T>(path: string, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DatasetError && error.file === path && error.message.startsWith(`${path}: `)) return undefined;
    throw error;
  }
}

/** A sample read through the loader: a well-formed one, or undefined for a named error. */
async function loaded(bytes: Uint8Array, name: string, note: NoteInput) {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  note(`${name}: ${Buffer.from(bytes.subarray(0, 120)).toString('hex')}`);
  const ref: SampleRef = { id: 'test/x/000', split: 'test', defect: 'x', label: 0, imagePath: path };
  const sample = await resultOrNamedError(path, () => loadSample({ ref, view }));
  if (sample) {
    if (sample.image.length !== 16 * 16 * 3 || !sample.image.every(Number.isFinite))
      throw new Error(`${name}: image of ${sample.image.length} values, or not finite`);
    if (sample.mask.length !== 16 * 16 || !sample.mask.every((v) => v === 0)) throw new Error(`${name}: mask`);
  }
  return sample;
}

export async function imageProperties(note: NoteInput): Promise<PropertyOutcome> {
  const rgb = Uint8Array.from({ length: 24 * 20 * 3 }, (_, i) => (i * 37) % 256);
  const png = new Uint8Array(await encodePng({ data: rgb, width: 24, height: 20, channels: 3 }));
  const jpeg = new Uint8Array(
    await sharp(Buffer.from(rgb), { raw: { width: 24, height: 20, channels: 3 } })
      .jpeg()
      .toBuffer(),
  );
  const dimension = fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 }) },
    { weight: 1, arbitrary: fc.constantFrom(5001, 65535, 100000, 2 ** 31 - 1, 2 ** 32 - 1) },
  );
  return checkProperties(fc, [
    {
      name: 'random bytes as an image',
      property: fc.asyncProperty(fc.uint8Array({ maxLength: 1024 }), async (bytes) => {
        await loaded(bytes, 'random.png', note);
      }),
    },
    {
      name: 'truncated PNG and JPEG files',
      property: fc.asyncProperty(fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), async (isPng, f) => {
        const base = isPng ? png : jpeg;
        await loaded(base.subarray(0, Math.floor(f * (base.length - 1))), isPng ? 'cut.png' : 'cut.jpg', note);
      }),
    },
    {
      name: 'mutated PNG and JPEG files',
      property: fc.asyncProperty(
        fc.boolean().chain((isPng) => fc.tuple(fc.constant(isPng), byteEdits((isPng ? png : jpeg).length))),
        async ([isPng, edits]) => {
          await loaded(withByteEdits(isPng ? png : jpeg, edits), isPng ? 'mutated.png' : 'mutated.jpg', note);
        },
      ),
    },
    {
      name: 'PNG headers claiming any size: refused past the pixel limit, before decoding',
      property: fc.asyncProperty(dimension, dimension, fc.uint8Array({ maxLength: 64 }), async (w, h, raw) => {
        const bytes = rgbPng(w, h, deflateSync(raw));
        const path = join(dir, 'header.png');
        writeFileSync(path, bytes);
        note(`header.png ${w}×${h}`);
        const header = await resultOrNamedError(path, () => readImageHeader(path));
        if (header && (header.width * header.height > MAX_IMAGE_PIXELS || header.width !== w || header.height !== h))
          throw new Error(`header ${header.width}×${header.height} for ${w}×${h}`);
        const sample = await loaded(bytes, 'header.png', note);
        return !(sample && w * h > MAX_IMAGE_PIXELS);
      }),
    },
  ]);
}

export async function maskProperties(note: NoteInput): Promise<PropertyOutcome> {
  const path = join(dir, 'mask.png');
  const size = fc.integer({ min: 1, max: 24 });
  /** A mask image: pixel levels in `channels` channels (alpha, when there, opaque). */
  const write = async (levels: number[], width: number, channels: 1 | 3 | 4) => {
    const height = levels.length / width;
    const data = new Uint8Array(levels.length * channels);
    levels.forEach((v, p) => {
      for (let c = 0; c < channels; c++) data[p * channels + c] = channels === 4 && c === 3 ? 255 : v;
    });
    writeFileSync(path, await encodePng({ data, width, height, channels }));
    note(`mask ${width}×${height}×${channels}: ${levels.slice(0, 64).join(',')}`);
  };
  const binary = fc
    .tuple(size, size, fc.integer({ min: 1, max: 255 }), fc.constantFrom<1 | 3 | 4>(1, 3, 4))
    .chain(([w, h, level, channels]) =>
      fc.tuple(
        fc.array(fc.boolean(), { minLength: w * h, maxLength: w * h }),
        fc.constant(w),
        fc.constant(level),
        fc.constant(channels),
      ),
    );
  const validMask = Uint8Array.from({ length: 64 }, (_, i) => (i % 3 ? 255 : 0));
  const validPng = new Uint8Array(await encodePng({ data: validMask, width: 8, height: 8, channels: 1 }));
  return checkProperties(fc, [
    {
      name: 'binary masks in any convention (0/255, 0/1, 0/level) and channels read as their non-zero pixels',
      property: fc.asyncProperty(binary, async ([on, width, level, channels]) => {
        await write(
          on.map((b) => (b ? level : 0)),
          width,
          channels,
        );
        const mask = await decodeMask(path);
        return mask.data.every((v, i) => v === (on[i] ? 1 : 0));
      }),
    },
    {
      name: 'masks with two non-zero levels are refused, naming the levels',
      property: fc.asyncProperty(
        size,
        fc.integer({ min: 1, max: 255 }),
        fc.integer({ min: 1, max: 255 }),
        fc.nat(),
        async (width, a, b, seed) => {
          fc.pre(a !== b);
          const levels = Array.from({ length: width * 2 }, (_, i) => [0, a, b][(i + seed) % 3]);
          levels[0] = a;
          levels[1] = b;
          await write(levels, width, 1);
          const error = await decodeMask(path).then(
            () => undefined,
            (e: Error) => e,
          );
          const lo = Math.min(a, b),
            hi = Math.max(a, b);
          return (
            error instanceof DatasetError && error.file === path && error.message.includes(`levels 0, ${lo}, ${hi}`)
          );
        },
      ),
    },
    {
      name: 'mutated and truncated masks: a 0/1 mask or a named error',
      property: fc.asyncProperty(
        fc.oneof(
          byteEdits(validPng.length).map((edits) => withByteEdits(validPng, edits)),
          fc.nat({ max: validPng.length - 1 }).map((n) => validPng.subarray(0, n)),
          fc.uint8Array({ maxLength: 512 }),
        ),
        async (bytes) => {
          writeFileSync(path, bytes);
          note(`mask bytes ${Buffer.from(bytes.subarray(0, 120)).toString('hex')}`);
          const mask = await resultOrNamedError(path, () => decodeMask(path));
          return !mask || (mask.data.length === mask.width * mask.height && mask.data.every((v) => v === 0 || v === 1));
        },
      ),
    },
  ]);
}
