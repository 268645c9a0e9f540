/**
 * A backtest worker for the main job (`procura backtest`): loads the scenario once, then runs
 * the strategies the parent sends (the scenario's own, or a baseline by name) and sends each
 * RunResult back with its Decimals intact (core/transfer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { answerRunJob } from './run-answer.js';
import type { RunJob, WorkerSetup } from './results.js';
import { loadScenario } from './scenario.js';

const setup = workerData as WorkerSetup;
const scenario = loadScenario(setup.file, setup.overrides);
parentPort!.on('message', (job: RunJob) => {
  void answerRunJob(scenario, job).then((answer) => parentPort!.postMessage(answer));
});
