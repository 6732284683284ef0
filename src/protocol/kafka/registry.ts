/** Every API the Kafka listener speaks, by API key. ApiVersions advertises exactly these. */
import type { AnyKafkaApi, KafkaEnv } from './api.js';
import { apiVersionsApi } from './apis/api-versions.js';
import { fetchApi } from './apis/fetch.js';
import { listOffsetsApi } from './apis/list-offsets.js';
import { metadataApi } from './apis/metadata.js';
import { produceApi } from './apis/produce.js';

const apis: AnyKafkaApi[] = [produceApi, fetchApi, listOffsetsApi, metadataApi, apiVersionsApi];

export const kafkaApis: ReadonlyMap<number, AnyKafkaApi> = new Map(apis.map((a) => [a.apiKey, a]));

export const kafkaEnv: KafkaEnv = {
  supported: [...kafkaApis.values()]
    .sort((a, b) => a.apiKey - b.apiKey)
    .map((a) => ({ apiKey: a.apiKey, minVersion: a.minVersion, maxVersion: a.maxVersion })),
};
