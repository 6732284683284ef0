/**
 * Topic ids (Kafka's, KIP-516): a topic gets a random id when it is created
 * and keeps it for its life, so a topic deleted and created again under the
 * same name is told apart by clients (Metadata v10+) and by a broker's own
 * partition directories (partition.metadata). The form is the cluster id's:
 * 16 random bytes as 22 characters of URL-safe base64 without padding.
 * Never Kafka's reserved ids: the all-zero id (Uuid.ZERO_UUID, "no id") and
 * the metadata topic's id (0…01).
 */
import { isClusterId, newClusterId } from './cluster-id.js';

/** Uuid.ZERO_UUID: "no topic id" on the wire. */
export const zeroTopicId = 'AAAAAAAAAAAAAAAAAAAAAA';
/** Uuid.METADATA_TOPIC_ID, reserved by Kafka for its own metadata topic. */
const metadataTopicId = 'AAAAAAAAAAAAAAAAAAAAAQ';

/** A new random topic id (never a reserved one, never starting with '-'). */
export function newTopicId(): string {
  for (;;) {
    const id = newClusterId();
    if (id !== zeroTopicId && id !== metadataTopicId) return id;
  }
}

/** True for a topic id of Kafka's form that is not the all-zero id. */
export function isTopicId(value: unknown): value is string {
  return isClusterId(value) && value !== zeroTopicId;
}
