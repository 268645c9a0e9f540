/**
 * A backtest worker for the main job (`procura backtest`): loads the scenario once, then runs
 * the strategies the parent sends (the scenario's own, or a baseline by name) and sends each
 * RunResult back with its Decimals intact (core/transfer.ts).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { ProcuraError } from '../core/errors.js';
import { toTransfer } from '../core/transfer.js';
import { runOne, type RunJob, type WorkerSetup } from './results.js';
import { loadScenario } from './scenario.js';

const setup = workerData as WorkerSetup;
const scenario = loadScenario(setup.file, setup.overrides);
parentPort!.on('message', (job: RunJob) => {
  runOne(scenario, job).then(
    (result) => parentPort!.postMessage({ index: job.index, result: toTransfer(result, 'RunResult') }),
    (error: unknown) =>
      parentPort!.postMessage({
        index: job.index,
        error:
          error instanceof ProcuraError
            ? { message: error.message, code: error.code, detail: error.detail, where: error.where }
            : { message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
      }),
  );
});
