/**
 * The producer's request plan: at most one batch per topic-partition in a
 * Produce request, a partition's batches in successive requests in their
 * order, requests bounded in bytes; and answers matched per topic-partition,
 * never to an answer given twice.
 */
import { describe, expect, it } from 'vitest';
import { ambiguousAnswer, answersByPartition, planProduceRequests } from '../../../src/client/produce-requests.js';
import { topicPartitionKey } from '../../../src/shared/topic-partition.js';
import { prng } from '../../helpers/prng.js';

interface Item {
  q: string;
  batch: { bytes: number; seq: number };
}

const item = (q: string, seq: number, bytes = 100): Item => ({ q, batch: { bytes, seq } });

describe('planProduceRequests', () => {
  it('puts the k-th batch of each partition into the k-th request', () => {
    const items = [item('a', 0), item('a', 1), item('b', 0), item('a', 2), item('b', 1)];
    const plan = planProduceRequests(items, 1 << 20);
    expect(plan.map((r) => r.map((i) => `${i.q}${i.batch.seq}`))).toEqual([['a0', 'b0'], ['a1', 'b1'], ['a2']]);
  });

  it('splits a round by bytes; a batch larger than the bound goes alone', () => {
    const items = [item('a', 0, 60), item('b', 0, 60), item('c', 0, 200), item('d', 0, 10)];
    const plan = planProduceRequests(items, 100);
    expect(plan.map((r) => r.map((i) => i.q))).toEqual([['a'], ['b'], ['c'], ['d']]);
    const small = planProduceRequests([item('a', 0, 40), item('b', 0, 40), item('c', 0, 40)], 100);
    expect(small.map((r) => r.map((i) => i.q))).toEqual([['a', 'b'], ['c']]);
  });

  it('random plans: every batch once, no partition twice in a request, each partition in order', () => {
    const random = prng(0x9e11);
    for (let trial = 0; trial < 200; trial++) {
      const seqs = new Map<string, number>();
      const items: Item[] = [];
      const count = 1 + Math.floor(random() * 40);
      for (let i = 0; i < count; i++) {
        const q = `p${Math.floor(random() * 5)}`;
        const seq = seqs.get(q) ?? 0;
        seqs.set(q, seq + 1);
        items.push(item(q, seq, 1 + Math.floor(random() * 300)));
      }
      const plan = planProduceRequests(items, 500);
      expect(plan.flat()).toHaveLength(items.length);
      const next = new Map<string, number>();
      for (const request of plan) {
        expect(new Set(request.map((i) => i.q)).size).toBe(request.length);
        const bytes = request.reduce((n, i) => n + i.batch.bytes, 0);
        expect(request.length === 1 || bytes <= 500).toBe(true);
        for (const i of request) {
          expect(i.batch.seq).toBe(next.get(i.q) ?? 0);
          next.set(i.q, i.batch.seq + 1);
        }
      }
    }
  });
});

describe('answersByPartition', () => {
  it('maps each topic-partition to its answer, and one answered twice to ambiguous', () => {
    const answers = answersByPartition([
      {
        name: 't',
        partitions: [
          { partition: 0, errorCode: 0, baseOffset: 10 },
          { partition: 1, errorCode: 0, baseOffset: 20 },
        ],
      },
      { name: 'u', partitions: [{ partition: 0, errorCode: 6, baseOffset: -1 }] },
      { name: 't', partitions: [{ partition: 1, errorCode: 0, baseOffset: 30 }] },
    ]);
    expect(answers.get(topicPartitionKey('t', 0))).toMatchObject({ baseOffset: 10 });
    expect(answers.get(topicPartitionKey('u', 0))).toMatchObject({ errorCode: 6 });
    expect(answers.get(topicPartitionKey('t', 1))).toBe(ambiguousAnswer);
    expect(answers.get(topicPartitionKey('t', 2))).toBeUndefined();
    expect(answersByPartition(undefined).size).toBe(0);
  });
});
