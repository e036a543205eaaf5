/**
 * Reads a run or sweep file: JSON or YAML by extension. Errors name the file.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';

export async function readConfigFile<T = never>(path: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new Error(`${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return (['.yaml', '.yml'].includes(extname(path).toLowerCase()) ? parseYaml(text) : JSON.parse(text)) as T;
  } catch (error) {
    throw new Error(
      `${path}: not valid ${extname(path).slice(1).toUpperCase() || 'JSON'} (${(error as Error).message.split('\n')[0]})`,
    );
  }
}
