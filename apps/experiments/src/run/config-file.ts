/**
 * Reads a run or sweep file: JSON or YAML by extension. Errors name the file. A file over
 * `MAX_CONFIG_BYTES` is refused before it is parsed: parsing megabytes of YAML (a generated list of
 * a million seeds) takes minutes with nothing to show, and no hand-written config is that big.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const MAX_CONFIG_BYTES = 1 << 20;

export async function readConfigFile<T = never>(path: string): Promise<T> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_CONFIG_BYTES)
      throw new Error(
        `${path}: ${(size / 2 ** 20).toFixed(1)} MiB, more than the ${MAX_CONFIG_BYTES / 2 ** 20} MiB a run or sweep file may be (a generated list? a sweep's cells come from short lists: axes × categories × seeds)`,
      );
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(code ? `${path}: cannot read (${code})` : (error as Error).message);
  }
  try {
    return (['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text)) as T;
  } catch (error) {
    throw new Error(
      `${path}: not valid ${extname(path).slice(1).toUpperCase() || 'JSON'} (${(error as Error).message.split('\n')[0]})`,
    );
  }
}
