/**
 * A sweep worker: loads the scenario once, then runs the jobs sent by the parent (a set,
 * screened or exact, or a baseline), and after the sweep the main job's runs for its report
 * (`{ index, run }`), warm from the sweep's exact runs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { RunJob } from './results.js';
import { answerRunJob } from './run-answer.js';
import { loadScenario } from './scenario.js';
import { runJob } from './sweep.js';

const data = workerData as { file: string; overrides: { strategy?: string; params?: Record<string, unknown> } };
const scenario = loadScenario(data.file, data.overrides.strategy === undefined ? { params: data.overrides.params ?? {} } : { strategy: data.overrides.strategy, params: data.overrides.params ?? {} });
parentPort!.on('message', (message: { index: number; job?: Parameters<typeof runJob>[1]; run?: RunJob }) => {
  if (message.run !== undefined) {
    void answerRunJob(scenario, message.run).then((answer) => parentPort!.postMessage(answer));
    return;
  }
  runJob(scenario, message.job!).then(
    (result) => parentPort!.postMessage({ index: message.index, inSample: result.inSample, outOfSample: result.outOfSample }),
    (error: unknown) => parentPort!.postMessage({ index: message.index, error: error instanceof Error ? error.message : String(error) }),
  );
});
