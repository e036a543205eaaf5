/**
 * Errors about input files: they name the file and say what was expected.
 */
export class DatasetError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'DatasetError';
  }
}
