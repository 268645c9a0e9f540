#!/usr/bin/env node
/**
 * Runs every command that README.md and docs/*.md show, so the docs cannot drift from the code:
 *
 *   npm run docs:check                # every command
 *   npm run docs:check -- --ci        # the CI subset (below): everything but the SLOW list
 *   npm run docs:check -- --list      # print the commands and what would happen to each; run nothing
 *   npm run docs:check -- docs/ledger.md ...   # only these files
 *
 * What counts as a command (the docs' two conventions):
 *   - in a fenced block tagged sh, bash or shell: every line that is not blank and not a comment;
 *   - in an untagged block or one tagged console or text: every line that starts with "$ " (the
 *     lines after it, up to the next "$ ", are its output and are not run).
 * A line ending in a backslash continues on the next. Synopsis blocks (`procura backtest
 * SCENARIO [--json] ...`) have no "$ " and are not run.
 *
 * How it runs them: each document in a fresh scratch directory whose entries are symbolic links
 * to the repository's own (so `out/`, `ledger.db` and the other files a tour writes land in the
 * scratch directory, and a document's commands see what its earlier commands wrote), with
 * `procura` on the PATH (what `npm link` gives a reader), no TTY (no progress bars), under bash
 * with pipefail, one after another in document order. A command must exit 0, or the status
 * EXPECTED_EXIT gives for it (the docs show some refusals on purpose). Any other status fails
 * the check with the document and line, the command and the tail of its output; the script
 * exits 1 after running the rest.
 *
 * The CI subset is a rule on the command's text, not on time: the SLOW list below (sweeps of the
 * main job, the benchmarks and the test suite itself) is left out with --ci; CI's own steps
 * already run the test suite and the main job. Everything else runs in CI.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Entries copied into the scratch directory rather than linked: the docs' commands write into them. */
const COPIED = new Set(['docs', 'schemas']);

/**
 * Commands never run here, each with the reason. Matched against the command's text (after
 * joining continuation lines). Keep every entry matching something: the docs-check test fails on
 * an entry that matches no command.
 */
export const SKIP = [
  { match: /^npm ci\b/, reason: 'reinstalls node_modules under the running check; CI runs it first (.ci/run)' },
  { match: /^npm test\b/, reason: 'the whole test suite; CI runs it just before this check (.ci/run)' },
  { match: /^npm run docs:check\b/, reason: 'this check itself' },
  { match: /^export PROCURA_\w+=\.\.\./, reason: 'placeholder credentials (keys for a real exchange)' },
  { match: /PROCURA_BINANCE_API_KEY=\.\.\./, reason: 'needs real exchange keys and the network' },
  { match: /^procura live --config config\/live\.example\.yaml --reconcile-only/, reason: 'asks a running exchange for its balances and orders: network and keys' },
  { match: /^procura live --config config\/live\.example\.yaml( --once| --paper)?(\s|$)/, reason: 'the example config talks to the Binance testnet: network (the tour runs --paper against the local emulator instead: npm run demo:paper)' },
  { match: /^procura live status --config config\/live\.example\.yaml/, reason: "reads the store a live run against the exchange left (docs/live.md shows a halted desk); a fresh checkout has none and the command says so, exit 2" },
  { match: /^procura data fetch\b/, reason: 'downloads candles from an exchange: network' },
  { match: /postgres:\/\/|^psql\b/, reason: 'needs a running PostgreSQL server on 127.0.0.1:5432 (the PostgreSQL tests start their own)' },
  { match: /^docker compose\b/, reason: 'needs docker compose and a docker daemon (docs/scaling.md says the file was not run here; its worker command is the one the sweep example above it runs)' },
  { match: /^apt-get\b/, reason: 'installs system packages (root); .ci/run installs what CI needs' },
  { match: /^npm run emulator\b/, reason: "serves the Binance emulator until stopped (docs/live.md's other terminal); test/live/split.test.ts runs the example desk's first tick against the emulator" },
  { match: /config\/live\.emulator\.yaml/, reason: 'needs `npm run emulator -- 18080` serving in another terminal; test/live/split.test.ts (first tick) and test/live/operations.test.ts (the service, health, metrics, alerts) run the same against an emulator they start' },
  { match: /^curl -s http:\/\/127\.0\.0\.1:9464\//, reason: 'asks the service started the line before (against the emulator); test/live/operations.test.ts checks /healthz and /metrics' },
  { match: /^kill %1$/, reason: 'stops the service started in the same session above' },
  { match: /^docker\b/, reason: 'needs a Docker daemon (none on the CI machine)' },
  { match: /^sudo\b|^journalctl\b/, reason: 'installs and reads systemd units as root; `systemd-analyze verify` checks the units and runs here' },
  { match: /^xdg-open\b/, reason: 'opens a desktop browser (CI has no display); the file it opens is written by the backtest before it' },
];

/**
 * The CI subset leaves these out (a rule on the text, documented in docs/development.md). Each is
 * a minute or more of CPU on the shared 2-core machine and repeats what CI already covers.
 */
export const SLOW = [
  { match: /\s--sweep\s/, reason: 'a walk-forward sweep: every parameter set is a full backtest (the sweep code has its own tests)' },
  { match: /^npm run soak\b/, reason: 'the live soak: hundreds of killed runs, twelve minutes for 200 cycles by design; its figures are the output' },
  { match: /^npm run bench\b|^node dist\/bench\//, reason: 'the benchmarks (npm run bench, or its runner after a build): minutes by design, and their figures are the output, not a pass or fail' },
  { match: /^npx vitest\b|^PROCURA_REPORT_FILE=/, reason: 'test-suite runs; CI runs the whole suite before this check' },
  { match: /^npm start\b|^procura backtest backtests\/ammonia-henry-hub\.yaml$/, reason: 'the main job (npm start runs exactly this); .ci/run runs it as its own step' },
  { match: /^npm run (build|schemas|results)\b/, reason: 'build compiles the project again (npm test has just done it; schemas.test.ts checks the shipped schemas against a fresh generation); results backtests every rule on 10 series' },
  { match: /\/tmp\/(ammonia|plastics)\.html|\/tmp\/shots-|^pngquant\b/, reason: "docs/report.md's recipe for the pictures: two more full backtests, a browser run per report, and files the sweep above it wrote" },
];

/** Commands the docs show failing on purpose, with the status they must exit with. */
export const EXPECTED_EXIT = [
  { match: /^procura cost .*--cadence natgas=weekly/, exit: 2, reason: 'docs/data.md shows the refusal of a daily file declared weekly' },
  { match: /^procura init out\/mydesk --prices backtests\/data\/natural-gas\/daily\.csv$/, exit: 2, reason: 'docs/your-data.md shows init refusing to overwrite' },
];

/** The commands of one markdown text, each with its 1-based line. */
export function extractCommands(text) {
  const lines = text.split('\n');
  const out = [];
  let fence = null; // the block's language while inside one
  let prompted = false; // the block holds "$ " lines
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    const opening = /^\s*```\s*([\w-]*)/.exec(line);
    if (opening !== null) {
      if (fence === null) {
        fence = opening[1].toLowerCase();
        // A shell block written as a session ("$ command", then its output) is read like one.
        const end = lines.findIndex((l, k) => k > i && /^\s*```/.test(l));
        prompted = lines.slice(i + 1, end === -1 ? undefined : end).some((l) => l.startsWith('$ '));
      } else {
        fence = null;
      }
      continue;
    }
    if (fence === null) continue;
    const shellFence = fence === 'sh' || fence === 'bash' || fence === 'shell';
    const shell = shellFence && !prompted;
    const prompt = fence === '' || fence === 'console' || fence === 'text' || (shellFence && prompted);
    let command;
    if (shell) {
      const trimmed = line.trim();
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      command = trimmed;
    } else if (prompt && line.startsWith('$ ')) {
      command = line.slice(2).trim();
    } else {
      continue;
    }
    const start = i + 1;
    while (command.endsWith('\\') && i + 1 < lines.length && !/^\s*```/.test(lines[i + 1])) {
      i += 1;
      command = `${command.slice(0, -1).trimEnd()} ${lines[i].trim()}`;
    }
    out.push({ line: start, command });
  }
  return out;
}

/** What happens to a command: skip (with the reason), slow (left out with --ci), or run expecting a status. */
export function classify(command) {
  const skip = SKIP.find((s) => s.match.test(command));
  if (skip !== undefined) return { action: 'skip', reason: skip.reason };
  const slow = SLOW.find((s) => s.match.test(command));
  const expected = EXPECTED_EXIT.find((s) => s.match.test(command));
  return { action: 'run', slow: slow?.reason ?? null, exit: expected?.exit ?? 0 };
}

/** README.md and docs/*.md, in that order, relative to the repository. */
export function docFiles(root = ROOT) {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

/** A scratch directory that looks like the repository (links to its entries) with a `procura` on PATH. */
function scratch(root) {
  const dir = mkdtempSync(join(tmpdir(), 'procura-docs-check-'));
  for (const entry of readdirSync(root)) {
    if (entry === 'out' || entry === '.git') continue;
    // Copies of what the docs' commands write into (the pictures, the schemas), links to the rest.
    if (COPIED.has(entry)) cpSync(join(root, entry), join(dir, entry), { recursive: true });
    else symlinkSync(join(root, entry), join(dir, entry));
  }
  const bin = join(dir, '.bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'procura'), `#!/bin/sh\nexec node ${JSON.stringify(join(root, 'bin', 'procura.js'))} "$@"\n`);
  chmodSync(join(bin, 'procura'), 0o755);
  return { dir, bin };
}

function tail(text, n) {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).map((l) => `      ${l}`).join('\n');
}

/** Runs the commands of the given documents; returns the failures as "doc:line: ..." strings. */
export function check(files, { ci = false, root = ROOT, log = console.log } = {}) {
  const failures = [];
  let ran = 0;
  let left = 0;
  for (const file of files) {
    const commands = extractCommands(readFileSync(join(root, file), 'utf8'));
    if (commands.length === 0) continue;
    const { dir, bin } = scratch(root);
    // Stopped (Ctrl-C, kill): the scratch directory goes too.
    const stop = (signal) => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      for (const { line, command } of commands) {
        const where = `${file}:${line}`;
        const c = classify(command);
        if (c.action === 'skip') {
          log(`skip ${where}: ${command}\n      (${c.reason})`);
          left += 1;
          continue;
        }
        if (ci && c.slow !== null) {
          log(`slow ${where}: ${command}\n      (left out with --ci: ${c.slow})`);
          left += 1;
          continue;
        }
        const started = process.hrtime.bigint();
        const r = spawnSync('bash', ['-o', 'pipefail', '-c', command], {
          cwd: dir,
          env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, NO_COLOR: '1', FORCE_COLOR: '0' },
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
          maxBuffer: 256 * 1024 * 1024,
        });
        ran += 1;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        const status = r.status ?? (r.signal !== null ? `signal ${r.signal}` : 'no status');
        if (status === c.exit) {
          log(`ok   ${where} (exit ${status}, ${seconds.toFixed(1)} s): ${command}`);
        } else {
          const message = `${where}: exit ${status}, expected ${c.exit}: ${command}`;
          failures.push(message);
          log(`FAIL ${message}\n${tail(`${r.stdout ?? ''}\n${r.stderr ?? ''}`, 12)}`);
        }
      }
    } finally {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  log(`\ndocs check: ${ran} commands run, ${left} left out (listed above), ${failures.length} failed`);
  for (const f of failures) log(`  ${f}`);
  return failures;
}

function list(files, root = ROOT) {
  for (const file of files) {
    for (const { line, command } of extractCommands(readFileSync(join(root, file), 'utf8'))) {
      const c = classify(command);
      const what = c.action === 'skip' ? `skip (${c.reason})` : `run, exit ${c.exit}${c.slow === null ? '' : ', not with --ci'}`;
      console.log(`${file}:${line}: ${command}\n    ${what}`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const ci = args.includes('--ci');
  const named = args.filter((a) => !a.startsWith('--')).map((a) => relative(ROOT, resolve(a)));
  const files = named.length > 0 ? named : docFiles();
  for (const f of named) {
    if (!f.endsWith('.md') || f.startsWith('..') || !existsSync(join(ROOT, f))) {
      console.error(`docs-check: ${f}: not a markdown file of this repository`);
      process.exit(2);
    }
  }
  if (args.includes('--list')) {
    list(files);
  } else {
    process.exitCode = check(files, { ci }).length > 0 ? 1 : 0;
  }
}
