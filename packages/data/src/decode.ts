/**
 * Image files in and out, through sharp (libvips): decoding PNG/JPEG/TIFF/…, and writing PNGs.
 * A corrupt, truncated or unreadable file is a `DatasetError` naming it and the decoder's reason.
 *
 * @example
 * ```ts
 * const img = await decodeImage('bottle/test/broken_large/000.png'); // RGB float in [0, 1]
 * await writePngAtomic('panel.png', { data: rgb, width: 672, height: 224, channels: 3 });
 * ```
 */
import sharp from 'sharp';
import { writeFileAtomic } from '@cfa/io';
import { DatasetError } from './errors';
import type { Raster } from './resize';

async function raw(path: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  try {
    const { data, info } = await sharp(path, { failOn: 'warning' }).raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0];
    throw new DatasetError(path, `cannot decode image (${reason})`);
  }
}

/**
 * The size of an image from its header alone (no pixels decoded): a cheap check, before long
 * work, that every input is an image the decoder takes. A truncated body is only found by
 * `decodeImage`.
 */
export async function probeImage(path: string): Promise<{ width: number; height: number; format: string }> {
  try {
    const meta = await sharp(path).metadata();
    if (!meta.width || !meta.height) throw new Error('no image size in the header');
    return { width: meta.width, height: meta.height, format: meta.format ?? 'unknown' };
  } catch (error) {
    throw new DatasetError(path, `cannot decode image (${(error as Error).message.split('\n')[0]})`);
  }
}

/** RGB float in [0, 1], HWC; grayscale is repeated to 3 channels, alpha dropped. */
export async function decodeImage(path: string): Promise<Raster> {
  const { data, width, height, channels } = await raw(path);
  if (data.length !== width * height * channels)
    throw new DatasetError(path, 'decoder returned a short buffer (truncated file?)');
  const out = new Float32Array(width * height * 3);
  const bytesPerSample = data.length / (width * height * channels) === 2 ? 2 : 1;
  const max = bytesPerSample === 2 ? 65535 : 255;
  const sample = (i: number) => (bytesPerSample === 2 ? data.readUInt16LE(i * 2) : data[i]);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = sample(p * channels + (channels >= 3 ? c : 0)) / max;
  }
  return { data: out, width, height, channels: 3, bits: bytesPerSample === 2 ? 16 : 8 };
}

/** A binary mask: first channel, value > 127 (of 255) → 1. */
export async function decodeMask(path: string): Promise<Raster<Uint8Array>> {
  const { data, width, height, channels } = await raw(path);
  const out = new Uint8Array(width * height);
  for (let p = 0; p < width * height; p++) out[p] = data[p * channels] > 127 ? 1 : 0;
  return { data: out, width, height, channels: 1 };
}

export interface PngInput {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 1 | 3 | 4;
}

export async function encodePng({ data, width, height, channels }: PngInput): Promise<Buffer> {
  if (data.length !== width * height * channels)
    throw new Error(
      `encodePng: ${width}×${height}×${channels} needs ${width * height * channels} bytes, got ${data.length}`,
    );
  const image = sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels } });
  // one channel stays a grayscale PNG (libvips would write RGB), as MVTec AD's masks are: loaders
  // such as the reference code's stack masks as 1-channel tensors
  return (channels === 1 ? image.toColourspace('b-w') : image).png({ compressionLevel: 6 }).toBuffer();
}

/** Writes through a temp file and a rename, so a reader never sees half a PNG. */
export async function writePngAtomic(path: string, image: PngInput): Promise<void> {
  await writeFileAtomic(path, await encodePng(image));
}
