/**
 * The native ZooKeeper client, run on a worker thread of its own.
 *
 * Why a thread: the native addon (`zookeeper`, yfinkelstein/node-zookeeper
 * 7.3.0) watches its socket with a libuv poll handle. When a request or ping
 * times out (zookeeper_interest fails: the server did not answer within two
 * thirds of the session timeout, as happens on a loaded machine) the C client
 * closes that socket, but the addon keeps the poll handle on the closed file
 * descriptor and closes it only at the next reconnect. A socket opened in
 * between gets the same descriptor number, and closing the stale handle
 * removes that socket from the event loop's epoll set: a client connection
 * accepted by the broker in that window is never read again (its requests
 * are never answered, nothing is logged). On its own thread the addon has its
 * own libuv loop and epoll set, which holds nothing but its socket: the stale
 * handle can no longer touch the broker's connections.
 *
 * The thread runs plain JavaScript (eval), so it works the same under tsx,
 * the compiled package and the test runner. It forwards the addon's session
 * events and each operation's result; watch callbacks travel back by id.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The code of the thread: owns every native handle of the process (the addon
 * cannot be loaded by a second thread once one has gone), answers
 * {h, id, op, args} messages for handle h.
 */
const workerSource = `
const { parentPort, workerData } = require('node:worker_threads');
const ZooKeeper = require(workerData.zookeeperPath);
const handles = new Map();
const post = (m) => parentPort.postMessage(m);
const plain = (v) => (Buffer.isBuffer(v) ? v.toString('utf8') : v);
const text = (err) => String(err && err.message ? err.message : err);
parentPort.on('message', (m) => {
  const h = m.h;
  if (m.type === 'init') {
    const zk = new ZooKeeper(m.config);
    handles.set(h, zk);
    zk.on('connect', () => post({ h, event: 'connect', timeout: zk.timeout }));
    zk.on('connecting', () => post({ h, event: 'connecting' }));
    zk.on('close', () => {
      handles.delete(h);
      post({ h, event: 'close' });
    });
    zk.init({});
    return;
  }
  const zk = handles.get(h);
  if (m.type === 'close') {
    handles.delete(h);
    try { zk?.close(); } catch {}
    post({ h, event: 'closed-by-request' });
    return;
  }
  if (!zk) {
    post({ h, id: m.id, error: 'the ZooKeeper handle is closed; result: "ZINVALIDSTATE -9"' });
    return;
  }
  const args = [...m.args];
  if (m.watch !== undefined) args.push((type, state, path) => post({ h, watch: m.watch, type, state, path }));
  let result;
  try {
    result = zk[m.op](...args);
  } catch (err) {
    post({ h, id: m.id, error: text(err) });
    return;
  }
  Promise.resolve(result).then(
    (value) => post({ h, id: m.id, value: Array.isArray(value) ? value.map(plain) : plain(value) }),
    (err) => post({ h, id: m.id, error: text(err) }),
  );
});
`;

/** The process's one ZooKeeper thread, started on first use; referenced only while a handle is open. */
class ZooKeeperThread {
  private worker: Worker | undefined;
  private readonly handles = new Map<number, IsolatedZooKeeper>();
  private nextHandle = 1;
  private failure: Error | undefined;

  open(handle: IsolatedZooKeeper, config: Record<string, unknown>): number {
    const h = this.nextHandle++;
    this.handles.set(h, handle);
    const worker = this.start();
    worker.ref();
    this.post({ h, type: 'init', config });
    return h;
  }

  /** The handle is gone: the thread no longer keeps the process alive once none is open. */
  release(h: number): void {
    this.handles.delete(h);
    if (this.handles.size === 0) this.worker?.unref();
  }

  post(message: Record<string, unknown>): void {
    if (this.failure || !this.worker) {
      const h = message.h as number;
      queueMicrotask(() => this.handles.get(h)?.onMessage({ h, event: 'close' }));
      return;
    }
    this.worker.postMessage(message);
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const zookeeperPath = createRequire(import.meta.url).resolve('zookeeper');
    const worker = new Worker(workerSource, {
      eval: true,
      // the source is plain CommonJS: none of the process's flags (--input-type=module, --import tsx)
      // may change how it is read (with --input-type=module it had no require and the thread died)
      execArgv: [],
      workerData: { zookeeperPath },
    });
    worker.on('message', (m: Record<string, unknown>) => this.handles.get(m.h as number)?.onMessage(m));
    const fail = (err: Error): void => {
      this.failure ??= err;
      for (const handle of [...this.handles.values()]) handle.onMessage({ event: 'close' });
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the ZooKeeper thread exited')));
    this.worker = worker;
    return worker;
  }
}

const thread = new ZooKeeperThread();

/** The fields of a znode's stat that ZkClient reads. */
export interface NativeStat {
  version: number;
  czxid: number;
  mzxid: number;
}

type WatchFn = (type: number, state: number, path: string) => void;

interface Call {
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

/** How an operation on a handle that is gone fails (the addon's own answer then: ZINVALIDSTATE). */
const invalidState = (): Error => new Error('the ZooKeeper handle is closed; result: "ZINVALIDSTATE -9"');

/**
 * The addon's promise API (the part ZkClient uses), served by the thread.
 * Events: 'connect', 'connecting', 'close' (the session's end, or the thread's).
 */
export class IsolatedZooKeeper extends EventEmitter {
  private readonly h: number;
  private readonly calls = new Map<number, Call>();
  private readonly watches = new Map<number, WatchFn>();
  private nextId = 1;
  private gone = false;
  private grantedTimeout: number | undefined;
  private closedByRequest: (() => void) | undefined;

  constructor(config: Record<string, unknown>) {
    super();
    this.h = thread.open(this, config);
  }

  /** The session timeout the server granted (from the last connect). */
  get timeout(): number | undefined {
    return this.grantedTimeout;
  }

  /** A message of the thread for this handle. */
  onMessage(m: Record<string, unknown>): void {
    if (typeof m.watch === 'number') {
      const fn = this.watches.get(m.watch);
      this.watches.delete(m.watch);
      fn?.(m.type as number, m.state as number, m.path as string);
      return;
    }
    if (typeof m.id === 'number') {
      const call = this.calls.get(m.id);
      this.calls.delete(m.id);
      if (!call) return;
      if (typeof m.error === 'string') call.reject(new Error(m.error));
      else call.resolve(m.value);
      return;
    }
    if (m.event === 'connect') {
      if (typeof m.timeout === 'number') this.grantedTimeout = m.timeout;
      this.emit('connect');
    } else if (m.event === 'connecting') this.emit('connecting');
    else if (m.event === 'close') {
      this.end();
      this.closedByRequest?.();
    } else if (m.event === 'closed-by-request') {
      thread.release(this.h);
      this.closedByRequest?.();
    }
  }

  /** The handle is gone (session ended, closed, or the thread failed): fail what waits, stop the thread. */
  private end(err?: Error): void {
    if (this.gone) return;
    this.gone = true;
    for (const call of this.calls.values()) call.reject(err ?? invalidState());
    this.calls.clear();
    this.watches.clear();
    thread.release(this.h);
    this.emit('close');
  }

  private call(op: string, args: unknown[], watch?: WatchFn): Promise<unknown> {
    if (this.gone) return Promise.reject(invalidState());
    const id = this.nextId++;
    let watchId: number | undefined;
    if (watch) {
      watchId = id;
      this.watches.set(watchId, watch);
    }
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      thread.post({ h: this.h, id, op, args, watch: watchId });
    });
  }

  /** Ends the session (the server deletes its ephemeral znodes), then the thread; resolves once both are gone. */
  close(): Promise<void> {
    if (this.gone) return Promise.resolve();
    this.gone = true;
    for (const call of this.calls.values()) call.reject(invalidState());
    this.calls.clear();
    this.watches.clear();
    const done = new Promise<void>((resolve) => {
      this.closedByRequest = resolve;
    });
    thread.post({ h: this.h, type: 'close' });
    return done;
  }

  create(path: string, data: string, flags: number): Promise<unknown> {
    return this.call('create', [path, data, flags]);
  }
  get(path: string, watch: boolean): Promise<unknown> {
    return this.call('get', [path, watch]);
  }
  exists(path: string, watch: boolean): Promise<NativeStat> {
    return this.call('exists', [path, watch]) as Promise<NativeStat>;
  }
  w_exists(path: string, watch: WatchFn): Promise<unknown> {
    return this.call('w_exists', [path], watch);
  }
  get_children(path: string, watch: boolean): Promise<string[]> {
    return this.call('get_children', [path, watch]) as Promise<string[]>;
  }
  w_get_children(path: string, watch: WatchFn): Promise<string[]> {
    return this.call('w_get_children', [path], watch) as Promise<string[]>;
  }
  set(path: string, data: string, version: number): Promise<unknown> {
    return this.call('set', [path, data, version]);
  }
  delete_(path: string, version: number): Promise<unknown> {
    return this.call('delete_', [path, version]);
  }
}
