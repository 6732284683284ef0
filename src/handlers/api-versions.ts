import { supportedVersions } from '../protocol/native/api-keys.js';
import type { ApiVersionsResponse } from '../protocol/native/messages.js';
import type { Handler } from './context.js';

export const apiVersionsHandler: Handler = {
  apiKey: 18,
  minVersion: 0,
  maxVersion: 0,
  async handle(): Promise<ApiVersionsResponse> {
    return {
      errorCode: 0,
      apis: Object.entries(supportedVersions).map(([key, v]) => ({
        apiKey: Number(key),
        minVersion: v.min,
        maxVersion: v.max,
      })),
    };
  },
};
