/**
 * The Kafka listener's config APIs against real encoders and hand-laid bytes:
 * AlterConfigs (33) v0-v1 against kafkajs 2.2.4's encoder and decoder, v2
 * (flexible) and IncrementalAlterConfigs (44) v0-v1 (kafkajs has none) and
 * DescribeConfigs (32) v3-v4 against bytes laid out by hand from Kafka's
 * message schemas (AlterConfigsRequest/Response.json,
 * IncrementalAlterConfigsRequest/Response.json, DescribeConfigsRequest/Response.json).
 */
import { describe, expect, it } from 'vitest';
import { KafkaReader, KafkaWriter } from '../../../src/protocol/binary/primitives.js';
import type { KafkaApi, NativeResult } from '../../../src/protocol/kafka/api.js';
import { alterConfigsApi } from '../../../src/protocol/kafka/apis/alter-configs.js';
import { describeConfigsApi } from '../../../src/protocol/kafka/apis/describe-configs.js';
import { incrementalAlterConfigsApi } from '../../../src/protocol/kafka/apis/incremental-alter-configs.js';
import { kafkaEnv } from '../../../src/protocol/kafka/registry.js';
import { kafkajsRequest, kafkajsResponse } from '../../helpers/kafkajs-protocol.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Classic STRING: int16 length + UTF-8. */
const str = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  return b.length.toString(16).padStart(4, '0') + b.toString('hex');
};
/** COMPACT_STRING (short ones): uvarint length+1 + UTF-8. */
const cstr = (text: string): string => {
  const b = Buffer.from(text, 'utf8');
  expect(b.length).toBeLessThan(127);
  return (b.length + 1).toString(16).padStart(2, '0') + b.toString('hex');
};
/** COMPACT_ARRAY length (short ones): uvarint n+1. */
const carr = (n: number): string => (n + 1).toString(16).padStart(2, '0');
const noTags = '00';

const flexibleAt = <Req, Res>(api: KafkaApi<Req, Res>, version: number) => ({
  version,
  flexible: version >= api.flexibleFrom,
});

function readRequest<Req, Res>(api: KafkaApi<Req, Res>, version: number, body: Buffer): Req {
  const r = new KafkaReader(body);
  const req = api.request.read(r, flexibleAt(api, version));
  expect(r.remaining).toBe(0);
  return req;
}

function writeResponse<Req, Res>(api: KafkaApi<Req, Res>, version: number, native: NativeResult, req: Req): Buffer {
  const w = new KafkaWriter();
  api.response.write(w, api.fromNative(native, req, version, kafkaEnv), flexibleAt(api, version));
  return w.toBuffer();
}

const alterNative = {
  errorCode: 0,
  results: [
    { errorCode: 0, resourceType: 2, resourceName: 't' },
    { errorCode: 42, errorMessage: 'broker configs are static', resourceType: 4, resourceName: '1' },
  ],
};

describe('AlterConfigs (33)', () => {
  it('reads v0 and v1 requests as kafkajs writes them', async () => {
    for (const version of [0, 1]) {
      const { apiKey, body } = await kafkajsRequest('alterConfigs', version, {
        validateOnly: true,
        resources: [
          {
            type: 2,
            name: 't',
            configEntries: [
              { name: 'retention.ms', value: '1000' },
              { name: 'cleanup.policy', value: 'compact,delete' },
            ],
          },
        ],
      });
      expect(apiKey).toBe(33);
      const req = readRequest(alterConfigsApi, version, body);
      expect(alterConfigsApi.toNative?.(req, version)).toEqual({
        resources: [
          {
            resourceType: 2,
            resourceName: 't',
            configs: [
              { name: 'retention.ms', value: '1000' },
              { name: 'cleanup.policy', value: 'compact,delete' },
            ],
          },
        ],
        validateOnly: true,
      });
    }
  });

  it('answers v0 and v1 in the layout kafkajs decodes, every byte read', async () => {
    const req = readRequest(alterConfigsApi, 0, hex(`00000000 00`));
    for (const version of [0, 1]) {
      const body = writeResponse(alterConfigsApi, version, alterNative, req);
      const { decoded, consumed } = await kafkajsResponse('alterConfigs', version, body);
      expect(consumed).toBe(body.length);
      expect(decoded).toMatchObject({
        throttleTime: 0,
        resources: [
          { errorCode: 0, errorMessage: null, resourceType: 2, resourceName: 't' },
          { errorCode: 42, errorMessage: 'broker configs are static', resourceType: 4, resourceName: '1' },
        ],
      });
    }
  });

  it('reads and answers v2 (flexible) from hand-laid bytes', () => {
    const request = hex(
      `${carr(1)} 02 ${cstr('t')} ${carr(2)} ${cstr('retention.ms')} ${cstr('1000')} ${noTags} ${cstr('segment.ms')} 00 ${noTags} ${noTags} 01 ${noTags}`,
    );
    const req = readRequest(alterConfigsApi, 2, request);
    expect(alterConfigsApi.toNative?.(req, 2)).toEqual({
      resources: [
        {
          resourceType: 2,
          resourceName: 't',
          configs: [
            { name: 'retention.ms', value: '1000' },
            { name: 'segment.ms', value: null },
          ],
        },
      ],
      validateOnly: true,
    });
    expect(writeResponse(alterConfigsApi, 2, alterNative, req)).toEqual(
      hex(
        `00000000 ${carr(2)}` +
          ` 0000 00 02 ${cstr('t')} ${noTags}` +
          ` 002a ${cstr('broker configs are static')} 04 ${cstr('1')} ${noTags}` +
          ` ${noTags}`,
      ),
    );
  });

  it('puts a request-level error on every resource', () => {
    const req = readRequest(alterConfigsApi, 0, hex(`00000002 02 ${str('a')} 00000000 04 ${str('1')} 00000000 00`));
    const body = writeResponse(alterConfigsApi, 0, { errorCode: 42, errorMessage: 'no' }, req);
    expect(body).toEqual(hex(`00000000 00000002 002a ${str('no')} 02 ${str('a')} 002a ${str('no')} 04 ${str('1')}`));
  });
});

describe('IncrementalAlterConfigs (44)', () => {
  const native = {
    errorCode: 0,
    results: [{ errorCode: 40, errorMessage: 'bad', resourceType: 2, resourceName: 't' }],
  };
  const expected = {
    resources: [
      {
        resourceType: 2,
        resourceName: 't',
        configs: [
          { name: 'cleanup.policy', configOperation: 2, value: 'compact' },
          { name: 'retention.ms', configOperation: 1, value: null },
        ],
      },
    ],
    validateOnly: false,
  };

  it('reads v0 from hand-laid bytes and answers in its layout', () => {
    const request = hex(
      `00000001 02 ${str('t')} 00000002 ${str('cleanup.policy')} 02 ${str('compact')} ${str('retention.ms')} 01 ffff 00`,
    );
    const req = readRequest(incrementalAlterConfigsApi, 0, request);
    expect(incrementalAlterConfigsApi.toNative?.(req, 0)).toEqual(expected);
    expect(writeResponse(incrementalAlterConfigsApi, 0, native, req)).toEqual(
      hex(`00000000 00000001 0028 ${str('bad')} 02 ${str('t')}`),
    );
  });

  it('reads v1 (flexible) from hand-laid bytes and answers in its layout', () => {
    const request = hex(
      `${carr(1)} 02 ${cstr('t')} ${carr(2)} ${cstr('cleanup.policy')} 02 ${cstr('compact')} ${noTags}` +
        ` ${cstr('retention.ms')} 01 00 ${noTags} ${noTags} 00 ${noTags}`,
    );
    const req = readRequest(incrementalAlterConfigsApi, 1, request);
    expect(incrementalAlterConfigsApi.toNative?.(req, 1)).toEqual(expected);
    expect(writeResponse(incrementalAlterConfigsApi, 1, native, req)).toEqual(
      hex(`00000000 ${carr(1)} 0028 ${cstr('bad')} 02 ${cstr('t')} ${noTags} ${noTags}`),
    );
  });
});

describe('DescribeConfigs (32) v3-v4', () => {
  const native = {
    errorCode: 0,
    results: [
      {
        errorCode: 0,
        resourceType: 2,
        resourceName: 't',
        configs: [
          {
            name: 'retention.ms',
            value: '1000',
            readOnly: false,
            isDefault: false,
            source: 1,
            isSensitive: false,
            synonyms: [
              { name: 'retention.ms', value: '1000', source: 1 },
              { name: 'log.retention.ms', value: '604800000', source: 5 },
            ],
            configType: 5,
            documentation: 'doc',
          },
        ],
      },
    ],
  };

  it('reads v3 (include_documentation) and answers with config_type and documentation', () => {
    const request = hex(`00000001 02 ${str('t')} 00000001 ${str('retention.ms')} 01 01`);
    const req = readRequest(describeConfigsApi, 3, request);
    expect(describeConfigsApi.toNative?.(req, 3)).toEqual({
      resources: [{ resourceType: 2, resourceName: 't', configurationKeys: ['retention.ms'] }],
      includeSynonyms: true,
      includeDocumentation: true,
    });
    expect(writeResponse(describeConfigsApi, 3, native, req)).toEqual(
      hex(
        `00000000 00000001 0000 ffff 02 ${str('t')} 00000001` +
          ` ${str('retention.ms')} ${str('1000')} 00 01 00` +
          ` 00000002 ${str('retention.ms')} ${str('1000')} 01 ${str('log.retention.ms')} ${str('604800000')} 05` +
          ` 05 ${str('doc')}`,
      ),
    );
  });

  it('reads v4 (flexible, every key as null) and answers in compact form', () => {
    const request = hex(`${carr(1)} 02 ${cstr('t')} 00 ${noTags} 00 00 ${noTags}`);
    const req = readRequest(describeConfigsApi, 4, request);
    expect(describeConfigsApi.toNative?.(req, 4)).toEqual({
      resources: [{ resourceType: 2, resourceName: 't', configurationKeys: null }],
      includeSynonyms: false,
      includeDocumentation: false,
    });
    expect(writeResponse(describeConfigsApi, 4, native, req)).toEqual(
      hex(
        `00000000 ${carr(1)} 0000 00 02 ${cstr('t')} ${carr(1)}` +
          ` ${cstr('retention.ms')} ${cstr('1000')} 00 01 00` +
          ` ${carr(2)} ${cstr('retention.ms')} ${cstr('1000')} 01 ${noTags} ${cstr('log.retention.ms')} ${cstr('604800000')} 05 ${noTags}` +
          ` 05 ${cstr('doc')} ${noTags} ${noTags} ${noTags}`,
      ),
    );
  });
});
