/**
 * The controller's broker prober (issue 18) against a scripted peer on a real
 * loopback socket: an answer is 'up', a peer that stops answering is 'silent'
 * after the bound, and a stall of this process itself (the peer is in-process
 * here, so its answer waits for our loop as well) gives no verdict. Its
 * LoopWatch reads the stall from the probes' own timers: the prober keeps no
 * timer of its own (issue 20 item 4: a 50 ms tick woke every broker 20 times a second).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseBrokerConfig } from '../../../src/config/broker-config.js';
import type { ProbeVerdict } from '../../../src/coordination/coordinator.js';
import { ApiKey } from '../../../src/protocol/native/api-keys.js';
import { ConnectionBrokerProber } from '../../../src/replication/broker-prober.js';
import { type FakeNativeBroker, fakeNativeBroker } from '../../helpers/fake-native-broker.js';
import { pollUntil } from '../../helpers/poll.js';

const timeoutMs = 500;
const config = parseBrokerConfig(
  new Map([
    ['controller.broker.probe.interval.ms', '10'],
    ['controller.broker.probe.timeout.ms', String(timeoutMs)],
  ]),
);

const closers: (() => unknown)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const close of closers.splice(0).reverse()) await close();
});

function prober(verdicts: ProbeVerdict[]): ConnectionBrokerProber {
  const p = new ConnectionBrokerProber({ brokerId: 0, config }, (_id, verdict) => verdicts.push(verdict));
  closers.push(() => p.stop());
  return p;
}

async function peer(answer: (n: number) => 'answer' | 'stall' | 'mute'): Promise<FakeNativeBroker> {
  let n = 0;
  const fake = await fakeNativeBroker((apiKey) => {
    if (apiKey !== ApiKey.ApiVersions) return undefined;
    const what = answer(++n);
    if (what === 'mute') return undefined;
    if (what === 'stall') {
      // this process stalls with a probe in flight, past the bound and its slack
      const until = Date.now() + 3 * timeoutMs;
      let spins = 0;
      while (Date.now() < until) spins++;
      expect(spins).toBeGreaterThan(0);
    }
    return { errorCode: 0, apiKeys: [] };
  });
  closers.push(() => fake.close());
  return fake;
}

describe('broker prober', () => {
  it('keeps no timer of its own: nothing is scheduled until a broker is tracked', () => {
    vi.useFakeTimers();
    const p = prober([]);
    p.track([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("says 'up' while the peer answers and 'silent' once it has not for the bound", async () => {
    let muted = false;
    const fake = await peer(() => (muted ? 'mute' : 'answer'));
    const verdicts: ProbeVerdict[] = [];
    prober(verdicts).track([{ id: 1, host: '127.0.0.1', port: fake.port }]);
    await pollUntil('an answer', 10_000, async () => (verdicts.includes('up') ? true : undefined), 10);
    muted = true;
    await pollUntil('silence', 10_000, async () => (verdicts.includes('silent') ? true : undefined), 10);
  });

  it('gives no verdict on a probe that failed while this process was stalled', async () => {
    // every fifth probe finds this process stalled for three times the bound
    const fake = await peer((n) => (n % 5 === 0 ? 'stall' : 'answer'));
    const verdicts: ProbeVerdict[] = [];
    prober(verdicts).track([{ id: 1, host: '127.0.0.1', port: fake.port }]);
    // four stalls, each followed by answers again
    await pollUntil('answers after four stalls', 60_000, async () =>
      verdicts.filter((v) => v === 'up').length >= 24 ? true : undefined,
    );
    expect(verdicts.filter((v) => v !== 'up')).toEqual([]);
  });
});
