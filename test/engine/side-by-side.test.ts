/**
 * The main job's runs side by side in one thread (backtestWithBaselines in process): each
 * result is the one its run gives alone, and the first run to fail fails the job and stops the
 * others (RunOptions.signal).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { afterAll, describe, expect, it } from 'vitest';
import { runBacktest } from '../../src/engine/backtest.js';
import { backtestWithBaselines, baselinesFor, resultJson, runOne, summaryTable } from '../../src/engine/results.js';
import { loadScenario, type Scenario } from '../../src/engine/scenario.js';
import { defineStrategy, type StrategyDefinition } from '../../src/engine/strategy.js';
import { shortAmmoniaFile } from '../support/scenarios.js';

const work = mkdtempSync(join(tmpdir(), 'procura-side-by-side-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The main job's scenario over 18 months (it hedges, so it has all three baselines). */
function shortAmmonia(): Scenario {
  return loadScenario(shortAmmoniaFile(work));
}

/**
 * The scenario's own strategy wrapped as `name`: it decides as the strategy does, after
 * `onDecision` is told the decision's count (which may throw).
 */
function wrapped(scenario: Scenario, name: string, onDecision: (count: number) => void): StrategyDefinition<unknown> {
  const inner = scenario.strategy.definition;
  return defineStrategy({
    name,
    description: `decides as ${inner.name}, telling a test each decision's count`,
    params: z.unknown(),
    needs: (p) => inner.needs(p),
    create: (p) => {
      const strategy = inner.create(p);
      let decisions = 0;
      return {
        name,
        decide: (context) => {
          decisions += 1;
          onDecision(decisions);
          return strategy.decide(context);
        },
      };
    },
  });
}

describe('the main job\'s runs side by side', () => {
  it('gives each run the result it gives alone (every field, and what is printed)', async () => {
    const scenario = shortAmmonia();
    const together = await backtestWithBaselines(scenario, { record: true });
    expect([...together.baselines.keys()]).toEqual(baselinesFor(scenario));
    expect(together.baselines.get('static-hedge')!.materials[0]!.hedgePnl.isZero()).toBe(false);
    // One after another, each alone in this thread.
    const own = await runOne(scenario, { strategy: null, record: true });
    expect(together.run).toStrictEqual(own);
    for (const name of baselinesFor(scenario)) {
      const alone = await runOne(scenario, { strategy: name, record: true });
      expect(alone.trades.length).toBeGreaterThan(10);
      expect(together.baselines.get(name)).toStrictEqual(alone);
    }
    // A second job on the same scenario (its plan and caches now filled) prints the same.
    const again = await backtestWithBaselines(scenario, { record: true });
    expect(JSON.stringify(resultJson(again))).toBe(JSON.stringify(resultJson(together)));
    expect(summaryTable(again)).toStrictEqual(summaryTable(together));
  }, 600_000);

  it('fails the job on the first run that fails, and the other runs stop', async () => {
    const loaded = shortAmmonia();
    const failing = wrapped(loaded, 'failing', (count) => {
      if (count === 60) throw new Error(`failing strategy: decision ${count}`);
    });
    const scenario: Scenario = { ...loaded, strategy: { ...loaded.strategy, definition: failing } };
    const finished: number[] = [];
    await expect(backtestWithBaselines(scenario, { onProgress: (done) => finished.push(done) })).rejects.toThrow(/failing strategy: decision 60/);
    // The simulated venue answers at once, so a run that went on would finish within the
    // microtasks queued before this macrotask; the stopped ones never report.
    await new Promise((done) => setImmediate(done));
    expect(finished).toEqual([]);
  }, 600_000);

  it('ends a run at its next await once its signal is aborted, with the signal\'s reason', async () => {
    const scenario = shortAmmonia();
    await expect(runBacktest(scenario, { signal: AbortSignal.abort(new Error('asked to stop')) })).rejects.toThrow(/asked to stop/);
    // Aborted during the run: by the scenario's own strategy at its 40th decision.
    const stop = new AbortController();
    const stopping = wrapped(scenario, 'stopping', (count) => {
      if (count === 40) stop.abort(new Error('stopped at decision 40'));
    });
    await expect(runBacktest(scenario, { signal: stop.signal, strategy: { definition: stopping, params: scenario.strategy.params } })).rejects.toThrow(/stopped at decision 40/);
  }, 600_000);
});
