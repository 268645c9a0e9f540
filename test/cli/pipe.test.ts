/**
 * procura as a filter: a reader that closes the pipe early (`procura ledger replay ... | head`)
 * ends the command quietly with status 141 (as a process killed by SIGPIPE: it did not finish),
 * not with a stack trace for an unhandled EPIPE and status 1.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

describe('stdout closed early by its reader', () => {
  it('ends quietly with status 141', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'procura.js'), 'ledger', 'replay', '--plant', join(ROOT, 'config', 'ammonia-plant.yaml'), '--events', join(ROOT, 'config', 'ammonia-events.jsonl')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // Closed before the command writes its 16 KB journal: every write then fails with EPIPE.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    expect(stderr).toBe('');
    expect(status).toBe(141);
  }, 120_000);
});
