import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeImage, encodePng, MAX_IMAGE_PIXELS, readImageHeader } from './decode';
import { rgbPng } from './testing';

/** A real PNG of `width` × `height` black RGB pixels: tiny on disk, `3·w·h` bytes decoded. */
function blackPng(width: number, height: number): Buffer {
  // each row: filter byte 0, then 3·width zeros
  return rgbPng(width, height, deflateSync(Buffer.alloc((1 + 3 * width) * height), { level: 9 }));
}

describe('decodeImage: the pixel limit', () => {
  it(`refuses a decompression bomb past ${MAX_IMAGE_PIXELS / 1e6} megapixels from its header, before decoding`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bomb-'));
    const bomb = blackPng(5100, 5000);
    expect(bomb.length, 'small on disk').toBeLessThan(200_000);
    await writeFile(join(dir, 'bomb.png'), bomb);
    // the outcome as text: a decoded image would be too large for the assertion to print
    const outcome = await decodeImage(join(dir, 'bomb.png')).then(
      (image) => `decoded ${image.width}×${image.height}`,
      (error: Error) => error.message,
    );
    expect(outcome).toMatch(/bomb\.png: image is 5100×5000 = 25\.5 megapixels, more than the 25 this loader reads/);
    await expect(readImageHeader(join(dir, 'bomb.png'))).rejects.toThrow(/25\.5 megapixels/);
  });

  it('reads an image just under the limit', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bomb-'));
    await writeFile(join(dir, 'ok.png'), blackPng(300, 200));
    const image = await decodeImage(join(dir, 'ok.png'));
    expect([image.width, image.height, image.data.length]).toEqual([300, 200, 300 * 200 * 3]);
    expect(await readImageHeader(join(dir, 'ok.png'))).toEqual({ width: 300, height: 200, format: 'png' });
  });
});

describe('readImageHeader', () => {
  it('reads the size of a PNG and a JPEG from the header, and names a file that is not an image', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'probe-'));
    const rgb = new Uint8Array(30 * 20 * 3).fill(90);
    await writeFile(join(dir, 'a.png'), await encodePng({ data: rgb, width: 30, height: 20, channels: 3 }));
    await writeFile(
      join(dir, 'b.jpg'),
      await sharp(Buffer.from(rgb), { raw: { width: 30, height: 20, channels: 3 } })
        .jpeg()
        .toBuffer(),
    );
    await writeFile(join(dir, 'c.png'), 'not an image');
    expect(await readImageHeader(join(dir, 'a.png'))).toEqual({ width: 30, height: 20, format: 'png' });
    expect(await readImageHeader(join(dir, 'b.jpg'))).toMatchObject({ width: 30, height: 20, format: 'jpeg' });
    await expect(readImageHeader(join(dir, 'c.png'))).rejects.toThrow(/c\.png: cannot read the image header/);
  });
});
