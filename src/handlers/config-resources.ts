/**
 * What AlterConfigs and IncrementalAlterConfigs share: one answer per
 * resource, in request order, each with its own error. Topics (resource type
 * 2) are altered through the topic manager; a broker (4) is refused — its
 * configuration is static, read from its properties file at start-up (Kafka's
 * dynamic broker configs are not implemented) — and any other type too.
 */
import { toWireError } from '../protocol/error-codes.js';
import { type AlterConfigsResult, ConfigResourceType } from '../protocol/native/messages.js';
import { AclOperation, checkCluster, checkTopic } from './authorize.js';
import { bad, type ClientInfo, type HandlerContext } from './context.js';
import { namedTwice } from './duplicate-names.js';

interface Resource {
  resourceType: number;
  resourceName: string;
}

export async function alterResources<R extends Resource>(
  ctx: HandlerContext,
  client: ClientInfo,
  resources: readonly R[],
  alterTopic: (resource: R) => Promise<unknown>,
): Promise<AlterConfigsResult[]> {
  const twice = namedTwice(resources.map((r) => `${r.resourceType}\u0000${r.resourceName}`));
  const results: AlterConfigsResult[] = [];
  for (const resource of resources) {
    const { resourceType, resourceName } = resource;
    try {
      if (twice.has(`${resourceType}\u0000${resourceName}`)) {
        throw bad(`the request names resource ${resourceName} (type ${resourceType}) more than once`);
      }
      // AlterConfigs on the topic, or on the cluster for a broker's configs (Kafka)
      if (resourceType === ConfigResourceType.Topic) checkTopic(ctx, client, AclOperation.AlterConfigs, resourceName);
      if (resourceType === ConfigResourceType.Broker) {
        checkCluster(ctx, client, AclOperation.AlterConfigs);
        throw bad(
          `broker configs are static here (no dynamic broker configs): change them in broker ${ctx.config.int('broker.id')}'s properties file and restart it`,
        );
      }
      if (resourceType !== ConfigResourceType.Topic) {
        throw bad(`resource type ${resourceType} has no alterable configs here (2: topic)`);
      }
      await alterTopic(resource);
      results.push({ errorCode: 0, resourceType, resourceName });
    } catch (err) {
      results.push({ ...toWireError(err), resourceType, resourceName });
    }
  }
  return results;
}
