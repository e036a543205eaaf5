import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { encodePng, probeImage } from './decode';

describe('probeImage', () => {
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
    expect(await probeImage(join(dir, 'a.png'))).toEqual({ width: 30, height: 20, format: 'png' });
    expect(await probeImage(join(dir, 'b.jpg'))).toMatchObject({ width: 30, height: 20, format: 'jpeg' });
    await expect(probeImage(join(dir, 'c.png'))).rejects.toThrow(/c\.png: cannot decode image/);
  });
});
