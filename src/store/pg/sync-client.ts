/**
 * A blocking PostgreSQL client: node-postgres running in a worker thread, the calling thread
 * waiting on a shared flag (Atomics.wait) until the answer is posted back, then reading it with
 * receiveMessageOnPort. This is how synckit works; it is written out here because the worker
 * must run both from the build and from the TypeScript sources the tests import, so its code is
 * a string that loads `pg` by absolute path.
 *
 * Why a blocking client at all: the desk, the order pipeline and the live runner's state are
 * synchronous (they run a backtest's millions of steps without an await), and so is the
 * ledger's `post`. The live runner and the synchronous ledger API (`balances`, `journal`,
 * as-of queries) reach PostgreSQL through this client and the same SQL operations the
 * asynchronous engine runs (ops.ts). Bulk posting goes through the asynchronous engine.
 *
 * One worker per process serves every blocking connection; each connection is a separate
 * session (its own transactions and advisory locks). A process that dies takes the worker and
 * its sockets with it, so the server releases its locks.
 */
import { createRequire } from 'node:module';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { ErrorCode, ProcuraError } from '../../core/errors.js';
import type { PgAddress } from './connect.js';
import { pgError } from './connect.js';
import type { Query, Row } from './ops.js';

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const pg = require(workerData.pgPath);
const { from: copyFrom } = require(workerData.copyPath);
const { pipeline } = require('node:stream/promises');
const { Readable } = require('node:stream');
const { port, flag } = workerData;
const clients = new Map();
let nextHandle = 1;
const parseInt8 = (text) => {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error('a bigint column holds ' + text + ', beyond what procura reads exactly');
  return value;
};
const types = { getTypeParser: (oid, format) => (oid === 20 && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format || 'text')) };
function answer(message) {
  port.postMessage(message);
  Atomics.store(flag, 0, 1);
  Atomics.notify(flag, 0);
}
async function handle(request) {
  if (request.op === 'connect') {
    const client = new pg.Client({ connectionString: request.url, application_name: request.applicationName, types });
    client.on('error', () => undefined);
    await client.connect();
    const id = nextHandle++;
    clients.set(id, client);
    return { handle: id };
  }
  const client = clients.get(request.handle);
  if (!client) throw new Error('connection ' + request.handle + ' is closed');
  if (request.op === 'query' && request.copy !== undefined) {
    await pipeline(Readable.from([request.copy]), client.query(copyFrom(request.text)));
    return { rows: [] };
  }
  if (request.op === 'query') return { rows: (await client.query({ text: request.text, values: request.values })).rows };
  if (request.op === 'end') {
    clients.delete(request.handle);
    await client.end();
    return {};
  }
  throw new Error('unknown op ' + request.op);
}
port.on('message', (request) => {
  handle(request).then(answer, (error) => answer({ error: { message: String(error && error.message || error), code: error && error.code } }));
});
`;

interface Bridge {
  readonly port: MessagePort;
  readonly flag: Int32Array;
}

let bridge: Bridge | undefined;

function start(): Bridge {
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const require = createRequire(import.meta.url);
  const pgPath = require.resolve('pg');
  const copyPath = require.resolve('pg-copy-streams');
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { port: port2, flag, pgPath, copyPath }, transferList: [port2] });
  // The worker must not keep the process alive, nor its port.
  worker.unref();
  port1.unref();
  return { port: port1, flag };
}

/** Sends one request and blocks until the worker answers. */
function call(request: Record<string, unknown>): Record<string, unknown> {
  bridge ??= start();
  const { port, flag } = bridge;
  Atomics.store(flag, 0, 0);
  port.postMessage(request);
  Atomics.wait(flag, 0, 0);
  const received = receiveMessageOnPort(port);
  if (received === undefined) throw new ProcuraError(ErrorCode.internal, 'the PostgreSQL worker thread gave no answer');
  const message = received.message as { error?: { message: string; code?: string } } & Record<string, unknown>;
  if (message.error) throw Object.assign(new Error(message.error.message), { code: message.error.code });
  return message;
}

/** One blocking PostgreSQL session. */
export class BlockingPgClient {
  readonly address: PgAddress;
  private handle: number | undefined;

  private constructor(address: PgAddress, handle: number) {
    this.address = address;
    this.handle = handle;
  }

  /** Connects (blocking), or throws a store error naming the database. */
  static connect(address: PgAddress, applicationName: string): BlockingPgClient {
    try {
      const { handle } = call({ op: 'connect', url: address.url, applicationName: applicationName.slice(0, 63) }) as { handle: number };
      return new BlockingPgClient(address, handle);
    } catch (error) {
      throw pgError(error, address, 'cannot connect');
    }
  }

  get open(): boolean {
    return this.handle !== undefined;
  }

  /** Runs a query; PostgreSQL errors keep their SQLSTATE in `code`. */
  query(q: Query): Row[] {
    if (this.handle === undefined) throw new ProcuraError(ErrorCode.internal, 'the PostgreSQL connection is closed', { file: this.address.display });
    const copy = q.copy === undefined ? undefined : [...q.copy].join('');
    return (call({ op: 'query', handle: this.handle, text: q.text, values: q.values, copy }) as { rows: Row[] }).rows;
  }

  end(): void {
    if (this.handle === undefined) return;
    const handle = this.handle;
    this.handle = undefined;
    try {
      call({ op: 'end', handle });
    } catch {
      // already gone
    }
  }
}
