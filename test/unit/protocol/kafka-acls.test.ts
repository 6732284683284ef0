/**
 * CreateAcls (30), DescribeAcls (29), DeleteAcls (31): v0/v1 requests as
 * kafkajs 2.2.4 encodes them are read by our schemas, our v0/v1 responses are
 * read by kafkajs's decoders (every byte, both ways); the flexible v2/v3
 * layouts are checked against bytes laid out by hand from Kafka's schemas
 * (compact strings and arrays: length + 1; a tagged-field count after each struct).
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { createAclsApi, deleteAclsApi, describeAclsApi } from '../../../src/protocol/kafka/apis/acls.js';
import { describeClusterApi } from '../../../src/protocol/kafka/apis/describe-cluster.js';
import { metadataApi } from '../../../src/protocol/kafka/apis/metadata.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';

const at = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({ version, flexible: version >= api.flexibleFrom });
function read<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, at(api, version));
  expect(r.remaining).toBe(0);
  return req;
}
function write<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), at(api, version));
  return w.toBuffer();
}
async function decoded(name: string, version: number, body: Buffer): Promise<Record<string, unknown>> {
  const { decoded: d, consumed } = await kafkajsResponse(name, version, body);
  expect(consumed).toBe(body.length);
  return d;
}

const binding = {
  resourceType: 2,
  resourceName: 'orders',
  resourcePatternType: 4,
  principal: 'User:ANONYMOUS',
  host: '127.0.0.1',
  operation: 3,
  permissionType: 3,
};

describe('CreateAcls (30)', () => {
  it('reads kafkajs v0 and v1 requests (v0 has no pattern type: LITERAL)', async () => {
    for (const v of [0, 1]) {
      const { body } = await kafkajsRequest('createAcls', v, { creations: [binding] });
      const req = read(createAclsApi, v, body);
      expect(createAclsApi.toNative?.(req, v)).toEqual({
        creations: [
          {
            resourceType: 2,
            resourceName: 'orders',
            patternType: v === 0 ? 3 : 4,
            principal: 'User:ANONYMOUS',
            host: '127.0.0.1',
            operation: 3,
            permission: 3,
          },
        ],
      });
    }
  });

  it('answers per creation, read by kafkajs v0/v1; a request refused as a whole fails each creation', async () => {
    const { body } = await kafkajsRequest('createAcls', 1, { creations: [binding, binding] });
    const req = read(createAclsApi, 1, body);
    const ok = await decoded(
      'createAcls',
      1,
      write(
        createAclsApi,
        1,
        { errorCode: 0, results: [{ errorCode: 0 }, { errorCode: 42, errorMessage: 'bad' }] },
        req,
      ),
    );
    expect(ok).toMatchObject({
      creationResponses: [
        { errorCode: 0, errorMessage: null },
        { errorCode: 42, errorMessage: 'bad' },
      ],
    });
    const refused = createAclsApi.fromNative({ errorCode: 31, errorMessage: 'no' }, req, 1, kafkaEnv);
    expect(refused.results).toEqual([
      { errorCode: 31, errorMessage: 'no' },
      { errorCode: 31, errorMessage: 'no' },
    ]);
  });

  it('reads a flexible v2 request laid out by hand', () => {
    const cs = (t: string) => (t.length + 1).toString(16).padStart(2, '0') + Buffer.from(t).toString('hex');
    const body = Buffer.from(
      // creations: compact array of 1 (02); resourceType 2; name; pattern 3; principal; host; op 4; permission 2; tags 0; request tags 0
      `02 02 ${cs('t')} 03 ${cs('User:x')} ${cs('*')} 04 02 00 00`.replace(/\s+/g, ''),
      'hex',
    );
    expect(read(createAclsApi, 2, body).creations).toEqual([
      {
        resourceType: 2,
        resourceName: 't',
        resourcePatternType: 3,
        principal: 'User:x',
        host: '*',
        operation: 4,
        permissionType: 2,
      },
    ]);
  });
});

describe('DescribeAcls (29)', () => {
  it('reads kafkajs v0/v1 filters and answers resources kafkajs reads; v0 sees only literal patterns', async () => {
    const filter = {
      ...binding,
      resourceType: 1,
      resourceName: null,
      resourcePatternType: 1,
      operation: 1,
      permissionType: 1,
    };
    for (const v of [0, 1]) {
      const { body } = await kafkajsRequest('describeAcls', v, filter);
      const req = read(describeAclsApi, v, body);
      expect(describeAclsApi.toNative?.(req, v)).toMatchObject({
        resourceType: 1,
        resourceName: null,
        patternType: v === 0 ? 3 : 1,
      });
      const native = {
        errorCode: 0,
        resources: [
          {
            resourceType: 2,
            resourceName: 'a',
            patternType: 3,
            acls: [{ principal: 'User:x', host: '*', operation: 3, permission: 3 }],
          },
          {
            resourceType: 2,
            resourceName: 'b.',
            patternType: 4,
            acls: [{ principal: 'User:y', host: '*', operation: 4, permission: 2 }],
          },
        ],
      };
      const got = await decoded('describeAcls', v, write(describeAclsApi, v, native, req));
      const resources = got.resources as { resourceName: string; acls: unknown[] }[];
      expect(resources.map((r) => r.resourceName)).toEqual(v === 0 ? ['a'] : ['a', 'b.']);
      expect(resources[0]?.acls).toEqual([{ principal: 'User:x', host: '*', operation: 3, permissionType: 3 }]);
    }
  });
});

describe('DeleteAcls (31)', () => {
  it('reads kafkajs v1 filters and answers the deleted ACLs per filter, read by kafkajs', async () => {
    const { body } = await kafkajsRequest('deleteAcls', 1, { filters: [binding] });
    const req = read(deleteAclsApi, 1, body);
    expect(deleteAclsApi.toNative?.(req, 1)).toEqual({
      filters: [
        {
          resourceType: 2,
          resourceName: 'orders',
          patternType: 4,
          principal: 'User:ANONYMOUS',
          host: '127.0.0.1',
          operation: 3,
          permission: 3,
        },
      ],
    });
    const native = {
      errorCode: 0,
      filterResults: [
        {
          errorCode: 0,
          matchingAcls: [
            {
              errorCode: 0,
              resourceType: 2,
              resourceName: 'orders',
              patternType: 4,
              principal: 'User:ANONYMOUS',
              host: '127.0.0.1',
              operation: 3,
              permission: 3,
            },
          ],
        },
      ],
    };
    const got = await decoded('deleteAcls', 1, write(deleteAclsApi, 1, native, req));
    expect(got).toMatchObject({
      filterResponses: [
        {
          errorCode: 0,
          matchingAcls: [
            {
              resourceName: 'orders',
              resourcePatternType: 4,
              principal: 'User:ANONYMOUS',
              operation: 3,
              permissionType: 3,
            },
          ],
        },
      ],
    });
  });
});

describe('authorized operations (KIP-430) through Metadata (3) and DescribeCluster (60)', () => {
  it('asks the native handler only when the client asks, and answers its bit fields', () => {
    const req = {
      topics: [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAA', name: 'orders' }],
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true,
    };
    expect(metadataApi.toNative?.(req, 10)).toMatchObject({
      includeTopicAuthorizedOperations: true,
      includeClusterAuthorizedOperations: true,
    });
    const native = {
      errorCode: 0,
      brokers: [],
      controllerId: 1,
      clusterId: 'c',
      topics: [{ name: 'orders', errorCode: 0, partitions: [], authorizedOperations: 264 }],
      clusterAuthorizedOperations: 384,
    };
    const res = metadataApi.fromNative(native, req, 10, kafkaEnv);
    expect(res.topics[0]?.topicAuthorizedOperations).toBe(264);
    expect(res.clusterAuthorizedOperations).toBe(384);
    const unasked = { ...req, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false };
    expect(metadataApi.toNative?.(unasked, 10)).not.toHaveProperty('includeTopicAuthorizedOperations');
    const dc = { includeClusterAuthorizedOperations: true, endpointType: 1 };
    expect(describeClusterApi.toNative?.(dc, 1)).toMatchObject({ includeClusterAuthorizedOperations: true });
    expect(describeClusterApi.fromNative(native, dc, 1, kafkaEnv).clusterAuthorizedOperations).toBe(384);
  });
});
