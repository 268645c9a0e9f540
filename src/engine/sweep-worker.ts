/** A sweep worker: loads the scenario once, then evaluates parameter sets sent by the parent. */
import { parentPort, workerData } from 'node:worker_threads';
import { loadScenario } from './scenario.js';
import { evaluateSet } from './sweep.js';

const data = workerData as { file: string; overrides: { strategy?: string; params?: Record<string, unknown> } };
const scenario = loadScenario(data.file, data.overrides.strategy === undefined ? { params: data.overrides.params ?? {} } : { strategy: data.overrides.strategy, params: data.overrides.params ?? {} });
parentPort!.on('message', (message: { index: number; params: Record<string, unknown> }) => {
  evaluateSet(scenario, message.params).then(
    (result) => parentPort!.postMessage({ index: message.index, ...result }),
    (error: unknown) => parentPort!.postMessage({ index: message.index, error: error instanceof Error ? error.message : String(error) }),
  );
});
