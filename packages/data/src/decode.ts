/**
 * Image files in and out, through sharp (libvips): decoding PNG/JPEG/TIFF/…, and writing PNGs.
 * A corrupt, truncated or unreadable file is a `DatasetError` naming it and the decoder's reason;
 * an image of more than `MAX_IMAGE_PIXELS` is refused from its header, before any pixel is decoded
 * (a decoded image costs 12 bytes per pixel as float RGB: at most 300 MB).
 *
 * Masks are binary in either convention: 0/255 (MVTec AD) or 0/1 (VisA), or any single non-zero
 * level; a mask holding more than one non-zero level (grayscale, antialiased, JPEG) is refused by
 * name rather than thresholded silently (a 0/1 mask thresholded at 127 reads as empty).
 *
 * @example
 * ```ts
 * const img = await decodeImage('bottle/test/broken_large/000.png'); // RGB float in [0, 1]
 * const { width, height } = await readImageHeader('bottle/ground_truth/broken_large/000_mask.png');
 * await writePngAtomic('panel.png', { data: rgb, width: 672, height: 224, channels: 3 });
 * ```
 */
import sharp, { type Metadata } from 'sharp';
import { writeFileAtomic } from '@cfa/io';
import { DatasetError } from './errors';
import type { Raster } from './raster';

/** The largest image (or mask) read: 25 megapixels, 5000 × 5000 (MVTec AD's largest is 1024 × 1024). */
export const MAX_IMAGE_PIXELS = 25_000_000;

const tooLarge = (path: string, width: number, height: number) =>
  new DatasetError(
    path,
    `image is ${width}×${height} = ${((width * height) / 1e6).toFixed(1)} megapixels, more than the ${MAX_IMAGE_PIXELS / 1e6} this loader reads`,
  );

/** What a decoder error says, on one line. */
const reasonOf = (error: unknown) => ((error as Error).message ?? String(error)).split('\n')[0];

export interface ImageHeader {
  width: number;
  height: number;
  format: string;
}

/** Width, height and format from the file's header, without decoding its pixels. */
export async function readImageHeader(path: string): Promise<ImageHeader> {
  let meta: Metadata;
  try {
    meta = await sharp(path, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw new DatasetError(path, `cannot read the image header (${reasonOf(error)})`);
  }
  if (!meta.width || !meta.height || !meta.format)
    throw new DatasetError(path, 'the image header gives no size: not an image, or damaged');
  if (meta.width * meta.height > MAX_IMAGE_PIXELS) throw tooLarge(path, meta.width, meta.height);
  return { width: meta.width, height: meta.height, format: meta.format };
}

async function raw(path: string): Promise<{ data: Buffer; width: number; height: number; channels: number }> {
  try {
    const { data, info } = await sharp(path, { failOn: 'warning', limitInputPixels: MAX_IMAGE_PIXELS })
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    const reason = reasonOf(error);
    if (/exceeds pixel limit/i.test(reason)) {
      const header = await sharp(path, { limitInputPixels: false })
        .metadata()
        .catch(() => undefined);
      if (header?.width && header.height) throw tooLarge(path, header.width, header.height);
    }
    throw new DatasetError(path, `cannot decode image (${reason})`);
  }
}

/** 8- or 16-bit samples, as sharp hands them over. */
function samplesOf(data: Buffer, width: number, height: number, channels: number, path: string) {
  const perSample = data.length / (width * height * channels);
  if (perSample !== 1 && perSample !== 2)
    throw new DatasetError(path, 'decoder returned a buffer of unexpected length (truncated file?)');
  const max = perSample === 2 ? 65535 : 255;
  const sample = perSample === 2 ? (i: number) => data.readUInt16LE(i * 2) : (i: number) => data[i];
  return { sample, max };
}

/** RGB float in [0, 1], HWC; grayscale is repeated to 3 channels, alpha dropped. */
export async function decodeImage(path: string): Promise<Raster> {
  const { data, width, height, channels } = await raw(path);
  const { sample, max } = samplesOf(data, width, height, channels, path);
  const out = new Float32Array(width * height * 3);
  for (let p = 0; p < width * height; p++) {
    for (let c = 0; c < 3; c++) out[p * 3 + c] = sample(p * channels + (channels >= 3 ? c : 0)) / max;
  }
  return { data: out, width, height, channels: 3, bits: max === 65535 ? 16 : 8 };
}

/**
 * A binary mask, 1 = defect. A pixel's level is the largest of its colour channels (alpha
 * ignored), so grey, RGB and palette masks read alike. Its non-zero pixels must share one level:
 * 255 (MVTec AD), 1 (VisA), or any other single value; otherwise a `DatasetError` says which levels
 * were found.
 */
export async function decodeMask(path: string): Promise<Raster<Uint8Array>> {
  const { data, width, height, channels } = await raw(path);
  const { sample } = samplesOf(data, width, height, channels, path);
  const colours = channels === 2 || channels === 4 ? channels - 1 : channels;
  const out = new Uint8Array(width * height);
  let level = 0;
  const others = new Set<number>();
  for (let p = 0; p < width * height; p++) {
    let v = 0;
    for (let c = 0; c < colours; c++) v = Math.max(v, sample(p * channels + c));
    if (v === 0) continue;
    if (level === 0) level = v;
    if (v === level) out[p] = 1;
    else if (others.size < 8) others.add(v);
  }
  if (others.size) {
    const found = [0, level, ...others].sort((a, b) => a - b);
    throw new DatasetError(
      path,
      `mask is not binary: it holds the levels ${found.join(', ')}${others.size >= 8 ? ' …' : ''}; expected 0 and one defect level (0/255 as MVTec AD, or 0/1 as VisA)`,
    );
  }
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
