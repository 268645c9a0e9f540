/** A sweep worker: loads the scenario once, then runs the jobs sent by the parent (a set, screened or exact, or a baseline). */
import { parentPort, workerData } from 'node:worker_threads';
import { loadScenario } from './scenario.js';
import { runJob } from './sweep.js';

const data = workerData as { file: string; overrides: { strategy?: string; params?: Record<string, unknown> } };
const scenario = loadScenario(data.file, data.overrides.strategy === undefined ? { params: data.overrides.params ?? {} } : { strategy: data.overrides.strategy, params: data.overrides.params ?? {} });
parentPort!.on('message', (message: { index: number; job: Parameters<typeof runJob>[1] }) => {
  runJob(scenario, message.job).then(
    (result) => parentPort!.postMessage({ index: message.index, inSample: result.inSample, outOfSample: result.outOfSample }),
    (error: unknown) => parentPort!.postMessage({ index: message.index, error: error instanceof Error ? error.message : String(error) }),
  );
});
