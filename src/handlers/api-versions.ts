import { ApiKey } from '../protocol/native/api-keys.js';
import { supportedVersions } from '../protocol/native/apis.js';
import type { Handler } from './context.js';

/** Every native API and the versions this build speaks, from the registry. */
export const apiVersionsHandler: Handler<typeof ApiKey.ApiVersions> = {
  apiKey: ApiKey.ApiVersions,
  async handle() {
    return { errorCode: 0, apis: supportedVersions() };
  },
};
