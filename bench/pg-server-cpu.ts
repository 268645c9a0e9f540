/**
 * CPU time of a local PostgreSQL server, for the benchmarks' "server CPU" beside the clients':
 * every process whose parent is the postmaster (backends, checkpointer, WAL writer...) plus the
 * postmaster's own time and its reaped children's (backends that have exited). Read from /proc;
 * undefined when the server is not on this machine or /proc cannot be read.
 */
import { readFileSync, readdirSync } from 'node:fs';
import pg from 'pg';

/** USER_HZ: /proc/<pid>/stat counts CPU time in ticks of 10 ms on Linux. */
const TICK_MS = 10;

/** The postmaster's pid, from a backend's parent (undefined when the server is elsewhere). */
export async function postmasterPid(url: string): Promise<number | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const backend = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
    return Number(statFields(backend)?.[1]) || undefined;
  } catch {
    return undefined;
  } finally {
    await client.end();
  }
}

/** The fields of /proc/PID/stat after the command name (field 4, ppid, is [1]). */
function statFields(pid: number | string): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** CPU ms the server has used so far (utime + stime of each process; cutime + cstime of the postmaster). */
export function serverCpuMs(postmaster: number | undefined): number | undefined {
  if (postmaster === undefined) return undefined;
  let ticks = 0;
  let found = false;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const f = statFields(pid);
    if (f === undefined) continue;
    const self = Number(pid) === postmaster;
    if (!self && Number(f[1]) !== postmaster) continue;
    found ||= self;
    ticks += Number(f[11]) + Number(f[12]);
    if (self) ticks += Number(f[13]) + Number(f[14]);
  }
  return found ? ticks * TICK_MS : undefined;
}
