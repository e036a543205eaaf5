/**
 * The error every weight-file reader throws on damage or hostile content (safetensors, both
 * torch checkpoint layouts, their zip and pickle layers): the file's path first, then what was
 * wrong, so the user sees which file to replace (docs/bad-input.md lists every case).
 *
 * @example
 * ```ts
 * throw new WeightFileError('/w/resnet18.pth', 'zip entry data.pkl is encrypted');
 * // WeightFileError: /w/resnet18.pth: zip entry data.pkl is encrypted
 * ```
 */
export class WeightFileError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'WeightFileError';
  }
}
