/**
 * Idempotence (the Java client's TransactionManager, without transactions):
 * the producer id and epoch from InitProducerId, asked of any broker on first
 * use, and each partition's next sequence number.
 *
 * A batch is stamped when it is first encoded: it takes its partition's next
 * sequence number, which then advances by the batch's record count (modulo
 * 2^31, Kafka's rule). A retry resends the same bytes, so a broker that
 * already appended the batch recognises it and answers with the original
 * offsets. When a stamped batch fails for good its sequence numbers may or may
 * not have reached the log, so the identity is retired: the batches encoded
 * after it take a new producer id, whose sequences start at 0 (a broker
 * accepts that from a producer id it does not know).
 *
 * A transactional producer (issue 21) takes its identity from its
 * transaction coordinator instead (transactions.ts calls adopt()), and a
 * failed batch does not retire it: its transaction can then only be aborted,
 * after which the epoch is bumped and the sequences start again.
 */
import { ApiKey } from '../../protocol/native/api-keys.js';
import type { InitProducerIdRequest } from '../../protocol/native/messages.js';
import { WireError } from '../../shared/errors.js';
import type { BatchOptions } from '../../wire/record-batch-encoder.js';
import type { Cluster } from '../cluster.js';
import { checkTopLevel, wireError } from '../errors.js';

/** Sequence numbers are non-negative int32s that wrap from 2^31-1 to 0 (Kafka's rule). */
export const sequenceModulus = 2 ** 31;

/** An idempotent producer's id and epoch from InitProducerId, with the next sequence number of each partition. */
export interface ProducerIdentity {
  producerId: number;
  producerEpoch: number;
  /** Next sequence by partition queue (any object standing for the partition). */
  sequences: Map<object, number>;
}

export class Idempotence {
  /** The current producer id, and its InitProducerId while under way. */
  private identity: ProducerIdentity | undefined;
  private init: Promise<ProducerIdentity> | undefined;

  /**
   * @param transactional batches are stamped transactional and the identity
   * comes only from adopt() (the transaction coordinator's InitProducerId)
   */
  constructor(
    private readonly cluster: Pick<Cluster, 'retry' | 'anyConnection'>,
    private readonly transactionTimeoutMs: number,
    readonly transactional = false,
  ) {}

  /** The identity a transactional producer's coordinator gave it: sequences start at 0 for every partition. */
  adopt(producerId: number, producerEpoch: number): ProducerIdentity {
    this.identity = { producerId, producerEpoch, sequences: new Map() };
    return this.identity;
  }

  /** The identity batches are stamped with now (undefined before the first InitProducerId answer or after a retirement). */
  get current(): ProducerIdentity | undefined {
    return this.identity;
  }

  /**
   * The current identity, asking a broker for one when there is none. A
   * retirement between the answer and the caller's use makes it ask again.
   */
  async acquire(): Promise<ProducerIdentity> {
    let identity: ProducerIdentity;
    do {
      identity = await this.ask();
    } while (identity !== this.identity);
    return identity;
  }

  private ask(): Promise<ProducerIdentity> {
    if (this.identity) return Promise.resolve(this.identity);
    if (this.transactional) {
      // never reached through the producer: transaction() initialises before any send is allowed
      return Promise.reject(
        wireError(WireError.INVALID_TXN_STATE, 'transactional send', 'the producer has no producer id yet'),
      );
    }
    this.init ??= this.cluster
      .retry(async () => {
        const conn = await this.cluster.anyConnection();
        const body: InitProducerIdRequest = { transactionalId: null, transactionTimeoutMs: this.transactionTimeoutMs };
        const res = await conn.request(ApiKey.InitProducerId, body);
        checkTopLevel(res, 'init producer id');
        if (!Number.isSafeInteger(res.producerId) || res.producerId < 0) {
          throw wireError(
            WireError.UNKNOWN_SERVER_ERROR,
            'init producer id',
            `the broker returned producer id ${String(res.producerId)}`,
          );
        }
        return res;
      })
      .then((res) => {
        const identity: ProducerIdentity = {
          producerId: res.producerId,
          producerEpoch: res.producerEpoch,
          sequences: new Map(),
        };
        this.identity = identity;
        return identity;
      })
      .finally(() => {
        this.init = undefined;
      });
    return this.init;
  }

  /** Sets the encoder's producer fields for a batch of `partition`: `identity` and the partition's next sequence. */
  stamp(identity: ProducerIdentity, partition: object, options: BatchOptions): void {
    options.producerId = identity.producerId;
    options.producerEpoch = identity.producerEpoch;
    options.baseSequence = identity.sequences.get(partition) ?? 0;
    if (this.transactional) options.transactional = true;
  }

  /** A batch of `count` records stamped for `partition` was encoded: the partition's next sequence follows it. */
  advance(identity: ProducerIdentity, partition: object, count: number): void {
    const sequence = identity.sequences.get(partition) ?? 0;
    identity.sequences.set(partition, (sequence + count) % sequenceModulus);
  }

  /** A batch stamped with `identity` failed for good: batches encoded from now on take a new producer id. */
  retire(identity: ProducerIdentity): void {
    // transactional: the transaction fails instead (abortable), and its abort bumps the epoch
    if (this.transactional) return;
    if (identity === this.identity) this.identity = undefined;
  }
}
