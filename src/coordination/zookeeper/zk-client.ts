/**
 * A thin typed promise wrapper over the native `zookeeper` client: a connect
 * timeout, ZooKeeper result codes on errors, string data, one-shot watches as
 * plain callbacks, and session events (connected / disconnected / closed).
 */
import { EventEmitter } from 'node:events';
import ZooKeeper from 'zookeeper';
import { zookeeperEmptyReadsMax } from '../../shared/limits.js';

/** ZooKeeper result codes the coordinator branches on. */
export const ZkCode = {
  NoNode: -101,
  BadVersion: -103,
  NodeExists: -110,
  NotEmpty: -111,
  SessionExpired: -112,
  ConnectionLoss: -4,
} as const;

export const ZkEvent = {
  Created: 1,
  Deleted: 2,
  Changed: 3,
  Child: 4,
  Session: -1,
  NotWatching: -2,
} as const;

/** A failed ZooKeeper operation, with the server's (or client's) result code. */
export class ZkError extends Error {
  constructor(
    readonly code: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ZkError';
  }
}

export function isZkError(err: unknown, code?: number): err is ZkError {
  return err instanceof ZkError && (code === undefined || err.code === code);
}

/** Watch callback: `type` is one of ZkEvent. */
export type WatchCallback = (type: number, path: string) => void;

export interface ZkClientOptions {
  /** host:port[,host:port...][/chroot] */
  connect: string;
  sessionTimeoutMs: number;
  connectTimeoutMs: number;
}

export interface ZkNodeStat {
  /** zkVersion, for conditional set/delete. */
  version: number;
  /** The zxid of the transaction that created the node (Kafka's "broker epoch" for a registration). */
  createdZxid: number;
  /** The zxid of the transaction that last changed the node. */
  modifiedZxid: number;
}

export interface ZkNodeData extends ZkNodeStat {
  data: string;
}

function wrap(path: string, op: string, err: unknown): ZkError {
  const message = err instanceof Error ? err.message : String(err);
  const match = /^(-?\d+)\s/.exec(message);
  const code = match ? Number(match[1]) : /result: "(\w+) (-?\d+)"/.exec(message)?.[2];
  return new ZkError(Number(code ?? -1), `ZooKeeper ${op} ${path} failed: ${message}`, { cause: err });
}

export class ZkClient extends EventEmitter<{ closed: []; connected: []; disconnected: [] }> {
  private closed = false;

  private constructor(private readonly zk: ZooKeeper) {
    super();
  }

  /** Opens a session, or fails with a ZkError after connectTimeoutMs. */
  static connect(options: ZkClientOptions): Promise<ZkClient> {
    const zk = new ZooKeeper({
      connect: options.connect,
      timeout: options.sessionTimeoutMs,
      debug_level: ZooKeeper.constants.ZOO_LOG_LEVEL_ERROR,
      host_order_deterministic: false,
      // The native client closes a session after this many consecutive empty reads (default 10); large
      // reads legitimately take more (yfinkelstein/node-zookeeper#233). ZooKeeper's own timeouts govern.
      response_counter_limit: zookeeperEmptyReadsMax,
    });
    const client = new ZkClient(zk);
    return new Promise((resolve, reject) => {
      let connected = false;
      const timer = setTimeout(() => {
        void client.close();
        reject(
          new ZkError(
            ZkCode.ConnectionLoss,
            `no ZooKeeper session with ${options.connect} within ${options.connectTimeoutMs} ms`,
          ),
        );
      }, options.connectTimeoutMs);
      zk.on('connect', () => {
        if (!connected) {
          connected = true;
          clearTimeout(timer);
          resolve(client);
        }
        client.emit('connected');
      });
      zk.on('connecting', () => client.emit('disconnected'));
      zk.on('close', () => {
        if (!connected) {
          clearTimeout(timer);
          client.closed = true;
          reject(
            new ZkError(ZkCode.ConnectionLoss, `the ZooKeeper session with ${options.connect} closed while connecting`),
          );
          return;
        }
        // 'close' is the session's end: an explicit close or an expiry.
        if (!client.closed) {
          client.closed = true;
          client.emit('closed');
        }
      });
      zk.init({});
    });
  }

  /** The session timeout the server granted (it bounds the requested one by its tick time); undefined when unknown. */
  get negotiatedSessionTimeoutMs(): number | undefined {
    const granted = (this.zk as unknown as { timeout?: unknown }).timeout;
    return typeof granted === 'number' && granted > 0 ? granted : undefined;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Ends the session: the server deletes this session's ephemeral znodes at once. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.zk.close();
    this.emit('closed');
  }

  async create(path: string, data: string, mode: 'persistent' | 'ephemeral'): Promise<void> {
    const flags = mode === 'ephemeral' ? ZooKeeper.constants.ZOO_EPHEMERAL : ZooKeeper.constants.ZOO_PERSISTENT;
    try {
      await this.zk.create(path, data, flags);
    } catch (err) {
      throw wrap(path, 'create', err);
    }
  }

  /** Creates a persistent sequential node under `prefix` (ZooKeeper appends a 10-digit counter); returns its path. */
  async createSequential(prefix: string, data: string): Promise<string> {
    try {
      return String(await this.zk.create(prefix, data, ZooKeeper.constants.ZOO_PERSISTENT_SEQUENTIAL));
    } catch (err) {
      throw wrap(prefix, 'create', err);
    }
  }

  /** Creates the persistent path and any missing parents (existing nodes are fine). */
  async ensurePath(path: string): Promise<void> {
    let prefix = '';
    for (const part of path.split('/').filter((p) => p.length > 0)) {
      prefix += `/${part}`;
      try {
        await this.zk.create(prefix, '', ZooKeeper.constants.ZOO_PERSISTENT);
      } catch (err) {
        const e = wrap(prefix, 'create', err);
        if (e.code !== ZkCode.NodeExists) throw e;
      }
    }
  }

  /**
   * Creates the empty persistent node unless it exists; its parents only when missing (one request
   * when the parent is there, where ensurePath walks the whole path).
   */
  async ensureNode(path: string): Promise<void> {
    try {
      await this.create(path, '', 'persistent');
    } catch (err) {
      if (isZkError(err, ZkCode.NodeExists)) return;
      if (!isZkError(err, ZkCode.NoNode)) throw err;
      await this.ensurePath(path);
    }
  }

  /** The node's data and version, or undefined when it does not exist. */
  async get(path: string): Promise<ZkNodeData | undefined> {
    try {
      const [stat, data] = (await this.zk.get(path, false)) as [
        { version: number; czxid: number; mzxid: number },
        string | Buffer | null,
      ];
      return {
        data: data === null || data === undefined ? '' : data.toString(),
        version: stat.version,
        createdZxid: stat.czxid,
        modifiedZxid: stat.mzxid,
      };
    } catch (err) {
      const e = wrap(path, 'get', err);
      if (e.code === ZkCode.NoNode) return undefined;
      throw e;
    }
  }

  /**
   * The node's versions and zxids without its data, or undefined when it does
   * not exist. The creation zxid tells a node from one deleted and created
   * again at the same path.
   */
  async stat(path: string): Promise<ZkNodeStat | undefined> {
    try {
      const stat = await this.zk.exists(path, false);
      return { version: stat.version, createdZxid: stat.czxid, modifiedZxid: stat.mzxid };
    } catch (err) {
      const e = wrap(path, 'exists', err);
      if (e.code === ZkCode.NoNode) return undefined;
      throw e;
    }
  }

  /**
   * Sets a one-shot watch that fires when the node is created, changed or
   * deleted; returns whether it exists now.
   */
  async watchNode(path: string, callback: WatchCallback): Promise<boolean> {
    try {
      await this.zk.w_exists(path, (type: number, _state: number, p: string) => callback(type, p));
      return true;
    } catch (err) {
      const e = wrap(path, 'exists', err);
      if (e.code === ZkCode.NoNode) return false;
      throw e;
    }
  }

  async children(path: string): Promise<string[]> {
    try {
      return await this.zk.get_children(path, false);
    } catch (err) {
      const e = wrap(path, 'get_children', err);
      if (e.code === ZkCode.NoNode) return [];
      throw e;
    }
  }

  /** Children now, with a one-shot watch for the next change of the set. The node must exist. */
  async watchChildren(path: string, callback: WatchCallback): Promise<string[]> {
    try {
      return await this.zk.w_get_children(path, (type: number, _state: number, p: string) => callback(type, p));
    } catch (err) {
      throw wrap(path, 'get_children', err);
    }
  }

  /** Conditional set (version -1: any); returns the new version. */
  async set(path: string, data: string, version: number): Promise<number> {
    try {
      const stat = (await this.zk.set(path, data, version)) as { version: number };
      return stat.version;
    } catch (err) {
      throw wrap(path, 'set', err);
    }
  }

  async delete(path: string, version = -1): Promise<void> {
    try {
      await this.zk.delete_(path, version);
    } catch (err) {
      throw wrap(path, 'delete', err);
    }
  }

  /** Deletes the node and everything under it; a missing node is fine. */
  async deleteRecursive(path: string): Promise<void> {
    for (const child of await this.children(path)) await this.deleteRecursive(`${path}/${child}`);
    try {
      await this.zk.delete_(path, -1);
    } catch (err) {
      const e = wrap(path, 'delete', err);
      if (e.code !== ZkCode.NoNode) throw e;
    }
  }
}
