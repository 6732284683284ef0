/**
 * BrokerHeartbeat (native only, issue 18): another broker, cut off from
 * ZooKeeper, asks whether its registration (the znode its session created)
 * still exists. The answer is a ZooKeeper read made now and whether this
 * broker's own connection is up; the asker acts only on a connected "no".
 */
import { ApiKey } from '../protocol/native/api-keys.js';
import type { BrokerHeartbeatResponse } from '../protocol/native/replication-messages.js';
import { ErrorCode, SluiceError } from '../shared/errors.js';
import type { Handler } from './context.js';

export const brokerHeartbeatHandler: Handler<typeof ApiKey.BrokerHeartbeat> = {
  apiKey: ApiKey.BrokerHeartbeat,
  async handle(request, ctx): Promise<BrokerHeartbeatResponse> {
    const view = await ctx.coordinator.registrationOf?.(request.brokerId, request.registrationZxid);
    if (view === undefined) {
      throw new SluiceError(ErrorCode.Unsupported, 'a standalone broker has no peers: BrokerHeartbeat is not served');
    }
    return { errorCode: 0, ...view };
  },
};
