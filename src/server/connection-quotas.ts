/**
 * Kafka's max.connections and max.connections.per.ip, counted over both
 * listeners of a broker: a connection beyond either cap is closed as soon as
 * it is accepted (with a rate-limited warning), and the connections already
 * open keep working.
 */
import fs from 'node:fs';
import { connectionFdReserve } from '../shared/limits.js';

export class ConnectionQuotas {
  private total = 0;
  /** Connections refused since start (either cap). */
  refusedTotal = 0;
  /** Open connections per remote address; an address leaves the map with its last connection, so it holds at most `maxConnections` entries. */
  private readonly perIp = new Map<string, number>();

  constructor(
    readonly maxConnections: number,
    readonly maxConnectionsPerIp: number,
  ) {}

  get open(): number {
    return this.total;
  }

  openFrom(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Counts a new connection from `ip`, or says which cap refuses it. */
  tryAcquire(ip: string): { ok: true } | { ok: false; reason: string } {
    if (this.total >= this.maxConnections) {
      this.refusedTotal++;
      return { ok: false, reason: `max.connections (${this.maxConnections}) reached` };
    }
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.maxConnectionsPerIp) {
      this.refusedTotal++;
      return { ok: false, reason: `max.connections.per.ip (${this.maxConnectionsPerIp}) reached for ${ip}` };
    }
    this.total++;
    this.perIp.set(ip, fromIp + 1);
    return { ok: true };
  }

  release(ip: string): void {
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp <= 0) return;
    this.total--;
    if (fromIp === 1) this.perIp.delete(ip);
    else this.perIp.set(ip, fromIp - 1);
  }
}

/** The soft limit on open files of this process (Node raises it to the hard limit at start-up), or undefined where /proc is not there. */
export function openFilesLimit(): number | undefined {
  try {
    const limits = fs.readFileSync('/proc/self/limits', 'utf8');
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(limits);
    if (!m || m[1] === 'unlimited') return undefined;
    return Number(m[1]);
  } catch {
    return undefined;
  }
}

/** Share of the open files limit in use past which the start-up summary warns (issue 20 item 5). */
const openFilesWarnShare = 0.8;

/**
 * The process's open files against its limit, for the start-up summary, with a warning when the
 * files in use (each partition holds its active segment open) come near the limit: partitions
 * created past it fail with EMFILE. Node raises the soft limit to the hard one at start-up
 * (there is no setrlimit in Node, and none is needed), so the soft limit read here is the hard one.
 */
export function openFilesUse(): { limit: number | undefined; open: number | undefined; warning?: string } {
  const limit = openFilesLimit();
  let open: number | undefined;
  try {
    open = fs.readdirSync('/proc/self/fd').length;
  } catch {
    open = undefined;
  }
  if (limit === undefined || open === undefined || open <= limit * openFilesWarnShare) return { limit, open };
  return {
    limit,
    open,
    warning: `${open} files are open of the open files limit ${limit} (ulimit -n): new partitions and connections will fail with EMFILE; raise the hard limit (LimitNOFILE= in a systemd unit, ulimit -Hn)`,
  };
}

/**
 * max.connections as the broker can honour it: connections beyond the open
 * files limit (less what segments, LevelDB and the admin API need) would fail
 * at accept() anyway, so the cap is lowered to fit, with a reason to log.
 */
export function effectiveMaxConnections(
  configured: number,
  fdLimit: number | undefined,
): { max: number; lowered?: string } {
  if (fdLimit === undefined || configured + connectionFdReserve <= fdLimit) return { max: configured };
  const max = Math.max(1, fdLimit - connectionFdReserve);
  return {
    max,
    lowered: `max.connections ${configured} lowered to ${max}: the open files limit is ${fdLimit} and ${connectionFdReserve} are kept for logs and indexes`,
  };
}
