/**
 * The docs check (scripts/docs-check.mjs, `npm run docs:check`): which lines of the docs it
 * takes for commands, that its skip, slow and expected-exit lists each still match a command
 * the docs show (a stale entry would hide nothing, or hide a new command by accident), that
 * no command with a placeholder is left to run, and that a failing command is reported with
 * its document and line.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, classify, docFiles, EXPECTED_EXIT, extractCommands, SKIP, SLOW } from '../../scripts/docs-check.mjs';

const work = mkdtempSync(join(tmpdir(), 'procura-docs-check-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const FENCE = '```';

describe('extractCommands', () => {
  it('takes every line of a shell block and the "$ " lines of a plain block or a shell session, with their line numbers', () => {
    const md = [
      '# Title', //                                   1
      `${FENCE}sh`, //                                 2
      'npm run build            # dist/ only', //     3
      '# a comment', //                                4
      '', //                                           5
      'procura cost --plant P \\', //                  6
      '  --events E', //                               7
      FENCE, //                                        8
      FENCE, //                                        9
      'procura backtest SCENARIO [--json]', //        10 (a synopsis: no "$ ")
      FENCE, //                                       11
      FENCE, //                                       12
      '$ procura signals --data f.csv --last 5', //   13
      'oil: 10,226 daily bars', //                    14 (output)
      '$ echo done', //                               15
      FENCE, //                                       16
      `${FENCE}yaml`, //                              17
      '$ not: a command', //                          18
      FENCE, //                                       19
      '$ outside any block', //                       20
      `${FENCE}sh`, //                                21
      '$ procura ledger head --db ledger.db', //      22
      '46:8b76d0f4', //                               23 (output of a session in a shell block)
      FENCE, //                                       24
    ].join('\n');
    expect(extractCommands(md)).toEqual([
      { line: 3, command: 'npm run build            # dist/ only' },
      { line: 6, command: 'procura cost --plant P --events E' },
      { line: 13, command: 'procura signals --data f.csv --last 5' },
      { line: 15, command: 'echo done' },
      { line: 22, command: 'procura ledger head --db ledger.db' },
    ]);
  });
});

describe('the lists against the docs as they are', () => {
  const all = docFiles().flatMap((file) => extractCommands(readFileSync(file, 'utf8')).map((c) => ({ file, ...c })));

  it('finds the commands of the README and of several docs', () => {
    expect(all.filter((c) => c.file === 'README.md').length).toBeGreaterThanOrEqual(5);
    expect(new Set(all.map((c) => c.file)).size).toBeGreaterThanOrEqual(8);
  });

  it('has no entry in the skip, slow or expected-exit lists that matches no command', () => {
    for (const rule of [...SKIP, ...SLOW, ...EXPECTED_EXIT]) {
      expect(all.some((c) => rule.match.test(c.command)), `${rule.match} (${rule.reason}) matches no command`).toBe(true);
    }
  });

  it('runs no command that still holds a placeholder (..., FILE, <...>)', () => {
    for (const c of all) {
      if (classify(c.command).action !== 'run') continue;
      expect(/\.\.\.|<[A-Za-z ]+>|\b[A-Z]{4,}\b(?!=)/.test(c.command.replace(/#.*$/, '').replace(/[A-Z_]+=\S+/g, '')), `${c.file}:${c.line}: ${c.command}`).toBe(false);
    }
  });

  it('runs most commands in CI: the slow list leaves out less than half of what runs', () => {
    const run = all.filter((c) => classify(c.command).action === 'run');
    const slow = run.filter((c) => { const k = classify(c.command); return k.action === 'run' && k.slow !== null; });
    expect(slow.length * 2).toBeLessThan(run.length);
  });
});

describe('check', () => {
  it('runs the commands in order in a scratch copy and names the document and line of a failure', () => {
    const root = join(work, 'repo');
    mkdirSync(join(root, 'docs'), { recursive: true });
    writeFileSync(join(root, 'README.md'), ['# r', FENCE + 'sh', 'echo one > made.txt', 'test -s made.txt', FENCE, ''].join('\n'));
    writeFileSync(join(root, 'docs', 'a.md'), ['# a', '', FENCE, '$ true', 'output', '$ false | cat', '$ ls made.txt', FENCE, ''].join('\n'));
    const lines: string[] = [];
    const failures = check(['README.md', 'docs/a.md'], { root, log: (l) => lines.push(l) });
    // pipefail: "false | cat" fails; each document starts afresh, so README's made.txt is not there.
    expect(failures).toEqual(['docs/a.md:6: exit 1, expected 0: false | cat', 'docs/a.md:7: exit 2, expected 0: ls made.txt']);
    expect(lines.some((l) => l.startsWith('ok   README.md:4 (exit 0'))).toBe(true);
    // Nothing was written into the repository itself.
    expect(() => readFileSync(join(root, 'made.txt'))).toThrow();
  });
});
