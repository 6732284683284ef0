/**
 * The controller's broker prober (issue 18, fencing; see
 * coordination/zookeeper/controller.ts): while this broker is the active
 * controller it keeps one connection to every other registered broker's
 * native listener (on any other broker: to the controller's alone, see
 * Controller.controllerGone) and sends an ApiVersions request on it every
 * `intervalMs`. Verdicts, reported to the controller:
 * - 'refused' at once when a connection is refused: nothing listens on the port
 *   any more, the process is gone (the kernel answers a SYN with RST). A
 *   connection that closes is tried again at once, so a broker killed with
 *   SIGKILL is reported within a round trip;
 * - 'silent' when no answer came for `timeoutMs` (a stopped process, a long
 *   pause): it may be alive, so it is fenced by leader epochs when it returns;
 * - 'up' on every answer (the controller unfences a fenced broker).
 *
 * Probing rather than heartbeats from the brokers: the controller learns of a
 * dead process from the kernel's RST in milliseconds, with no new API and no
 * timer on the dying side; heartbeats could only tell silence.
 *
 * A broker not heard from yet since the probe began (a controller just
 * elected, a broker just registered: either may be busy starting) is judged
 * silent only after brokerProbeFirstAnswerGraceMs; a refusal counts at once.
 *
 * A broker is silent when its probes have failed (no answer within the
 * bound, or any failure but a refusal) for the bound. A probe that failed
 * while this process itself was stalled (a pause, a long GC, the backlog
 * after one: LoopWatch) gives no verdict and starts the count afresh:
 * silence seen through our own stall is not the other broker's.
 */
import { Connection } from '../client/connection.js';
import type { TlsConnectOptions } from '../client/tls.js';
import type { BrokerConfig } from '../config/broker-config.js';
import { interBrokerSaslOption } from '../config/inter-broker-sasl.js';
import type { BrokerProber, ProbedBroker, ProbeVerdict } from '../coordination/coordinator.js';
import { ApiKey } from '../protocol/native/api-keys.js';
import { brokerProbeFirstAnswerGraceMs } from '../shared/limits.js';

export interface BrokerProberOptions {
  /** This broker (the controller): its probes' client id. */
  brokerId: number;
  config: BrokerConfig;
  /** TLS of the connections to brokers (inter.broker.security.protocol); absent: plaintext. */
  tls?: TlsConnectOptions;
}

export type ProbeReport = (brokerId: number, verdict: ProbeVerdict, why: string) => void;

/** True when `err` (or one of its causes) is a refused TCP connection. */
export function isConnectionRefused(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as NodeJS.ErrnoException).code === 'ECONNREFUSED') return true;
  }
  return false;
}

class Probe {
  private connection: Connection | undefined;
  private stopped = false;
  private wake: (() => void) | undefined;
  /** When the failures since the last answer began (undefined: the last probe was answered). */
  private failingSince: number | undefined;
  /** Whether it answered since this probe began: until then its silence bound is brokerProbeFirstAnswerGraceMs. */
  private answered = false;
  readonly done: Promise<void>;

  constructor(
    readonly target: ProbedBroker,
    private readonly options: BrokerProberOptions,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly report: ProbeReport,
    private readonly loop: LoopWatch,
  ) {
    this.done = this.run();
  }

  stop(): void {
    this.stopped = true;
    this.connection?.close();
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      await this.once();
      if (this.stopped) break;
      const dueAt = Date.now() + this.intervalMs;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          // the pause timer doubles as the LoopWatch's tick: how late it fired tells a stall
          this.loop.fired(dueAt, this.stallSlackMs);
          done();
        }, this.intervalMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wake = done;
      });
      this.wake = undefined;
    }
    this.connection?.close();
  }

  /** One probe: connect when needed, ApiVersions, a verdict. */
  private async once(): Promise<void> {
    const start = Date.now();
    // a broker not heard from yet gets the first-answer grace (see the file comment)
    const boundMs = this.answered ? this.timeoutMs : Math.max(this.timeoutMs, brokerProbeFirstAnswerGraceMs);
    const { host, port, id } = this.target;
    try {
      if (!this.connection || this.connection.isClosed) {
        this.connection = new Connection({
          host,
          port,
          clientId: `controller-probe-${this.options.brokerId}`,
          connectTimeoutMs: boundMs,
          requestTimeoutMs: boundMs,
          maxInFlight: 1,
          ...(this.options.tls ? { tls: this.options.tls } : {}),
          ...interBrokerSaslOption(this.options.config),
          // the broker closed the connection (it may have died): probe again at once
          onClose: () => this.wake?.(),
        });
      }
      await this.connection.connect();
      await this.connection.request(ApiKey.ApiVersions, {}, { timeoutMs: Math.max(boundMs - (Date.now() - start), 1) });
      this.failingSince = undefined;
      this.answered = true;
      this.report(id, 'up', 'answered a probe');
    } catch (err) {
      this.connection?.close();
      this.connection = undefined;
      if (this.stopped) return;
      if (isConnectionRefused(err)) {
        this.report(id, 'refused', `connection to ${host}:${port} refused`);
        return;
      }
      const at = Date.now();
      // a timeout fires when its timer does: how late it is tells a stall too (to the other probes as well)
      if (this.loop.fired(start + boundMs, this.stallSlackMs) || this.loop.stalledSince(start)) {
        // this process was stalled (a pause, a long GC, a backlog after one): the silence may be ours
        this.failingSince = undefined;
        return;
      }
      this.failingSince ??= start;
      const silentMs = at - this.failingSince;
      if (silentMs >= boundMs) this.report(id, 'silent', `no answer to probes for ${silentMs} ms`);
    }
  }

  /** How late a timer may fire before this process counts as stalled. */
  private get stallSlackMs(): number {
    return Math.max(this.timeoutMs / 2, 200);
  }
}

/**
 * Tells whether this process's event loop was stalled, from how late the
 * probes' own timers fire (their pauses between probes and their timeouts):
 * a timer later than the slack means the loop did not run from its due time
 * until it fired. A probe that fails while it is (timers run before the socket
 * reads that may hold the answer) gives no verdict. No timer of its own: a
 * 50 ms tick woke every broker 20 times a second for it (issue 20 item 4),
 * and the probes' timers are due as often (every probe interval each) and are
 * the ones whose lateness matters.
 */
class LoopWatch {
  /** When the latest stall seen ended (-Infinity: none yet). */
  private stallEndedMs = Number.NEGATIVE_INFINITY;

  /** A timer due at `dueMs` fires now: true (and remembered) when it is more than `slackMs` late. */
  fired(dueMs: number, slackMs: number): boolean {
    const now = Date.now();
    if (now - dueMs <= slackMs) return false;
    this.stallEndedMs = now;
    return true;
  }

  /** Whether a stall was seen that ended at or after `sinceMs` (it overlapped a probe begun then). */
  stalledSince(sinceMs: number): boolean {
    return this.stallEndedMs >= sinceMs;
  }
}

/** The prober (see the file comment): one Probe per tracked broker. */
export class ConnectionBrokerProber implements BrokerProber {
  private readonly probes = new Map<number, Probe>();
  private stopped = false;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly loop = new LoopWatch();

  private readonly report: ProbeReport;

  constructor(
    private readonly options: BrokerProberOptions,
    report: ProbeReport,
  ) {
    this.intervalMs = options.config.int('controller.broker.probe.interval.ms');
    this.timeoutMs = options.config.int('controller.broker.probe.timeout.ms');
    // Silence fences too unless switched off (controller.broker.fence.silent.enable): a stopped broker
    // is fenced while its ZooKeeper session lives, and once resumed it may act for a few milliseconds as
    // the leader it was; leader epochs and the followers' checks (replica-fetcher.ts, fetch.ts) keep
    // that from acknowledging anything.
    const fenceSilent = options.config.bool('controller.broker.fence.silent.enable');
    this.report = (id, verdict, why) => {
      if (verdict === 'silent' && !fenceSilent) return;
      report(id, verdict, why);
    };
  }

  track(brokers: readonly ProbedBroker[]): void {
    if (this.stopped) return;
    const wanted = new Map(brokers.map((b) => [b.id, b]));
    for (const [id, probe] of this.probes) {
      const b = wanted.get(id);
      if (!b || b.host !== probe.target.host || b.port !== probe.target.port) {
        probe.stop();
        this.probes.delete(id);
      }
    }
    for (const b of brokers) {
      if (!this.probes.has(b.id)) {
        this.probes.set(
          b.id,
          new Probe({ ...b }, this.options, this.intervalMs, this.timeoutMs, this.report, this.loop),
        );
      }
    }
  }

  stop(): void {
    this.stopped = true;
    for (const probe of this.probes.values()) probe.stop();
    this.probes.clear();
  }
}
