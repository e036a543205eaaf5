// Worker entry of runPropertyInWorker: loads the TypeScript property module through tsx (a dev
// dependency; tests only) and runs the named export, reporting each input before it is decoded.
import { parentPort, workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const module = await tsImport(workerData.module, import.meta.url);
const run = module[workerData.exportName];
if (typeof run !== 'function') throw new Error(`${workerData.module} exports no function ${workerData.exportName}`);
const note = (input) => parentPort.postMessage({ kind: 'note', input: String(input).slice(0, 400) });
const outcome = await run(note);
parentPort.postMessage({ kind: 'done', outcome });
