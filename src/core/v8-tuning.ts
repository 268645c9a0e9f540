/**
 * One V8 setting for procura's processes, applied when this module is evaluated: import it
 * before anything else (bin/procura.js and the bench harness do).
 *
 * A smaller inlining budget for V8's optimising compiler: 300 bytes of bytecode inlined into
 * one optimised function instead of the default 920. The engine's per-day functions are large,
 * and V8 optimises them several times in a run's first seconds (after deoptimisations); with
 * the smaller budget it spends less CPU compiling them and the steady state is not slower.
 * Measured on `npm start` (docs/benchmarks.md, "Exact engine, round 6"): about 0.9x the CPU
 * and 0.93x the wall time. It is a compiler heuristic only: what the code computes cannot
 * change (`npm start`'s output and the parity digest are identical with and without it). The
 * flag is process-wide, so worker threads started later share it.
 */
import v8 from 'node:v8';

export const V8_FLAGS = '--max-inlined-bytecode-size-cumulative=300';

v8.setFlagsFromString(V8_FLAGS);
