/**
 * The JSON Schemas of schemas/ in an EventBridge schema registry, so consumers can find each ban event's schema and
 * download code bindings; consumer accounts and the organization get read-only access through the registry policy.
 */
import { Stack } from 'aws-cdk-lib';
import * as eventschemas from 'aws-cdk-lib/aws-eventschemas';
import { Construct } from 'constructs';
import { DETAIL_TYPES } from '../../src/shared/contract';
import { BAN_EVENT_SCHEMAS } from '../../src/notify/schemas';
import { CONSUMER_SCHEMA_ACTIONS } from './defaults';
import { BanEventConsumers, consumerAccountsPrincipal } from './event-bus';

export interface SchemaRegistryResources {
  readonly registry: eventschemas.CfnRegistry;
  /** One schema per detail type. */
  readonly schemas: Record<string, eventschemas.CfnSchema>;
}

/** The registry `registryName` with a schema per detail type, in `scope`, readable by `consumers`. */
export function buildSchemaRegistry(scope: Construct, registryName: string, consumers: BanEventConsumers): SchemaRegistryResources {
  const registry = new eventschemas.CfnRegistry(scope, 'Registry', {
    registryName,
    description: 'JSON Schemas of distill-guard ban events (source distill-guard); versioning policy in docs/events.md',
  });
  const schemas: Record<string, eventschemas.CfnSchema> = {};
  for (const dt of DETAIL_TYPES) {
    const s = BAN_EVENT_SCHEMAS[dt];
    const schema = new eventschemas.CfnSchema(scope, `Schema${s.definition}`, {
      registryName,
      schemaName: s.schemaName,
      type: 'JSONSchemaDraft4',
      content: JSON.stringify(s.schema),
      description: `distill-guard "${dt}" (schemas/${s.file})`,
    });
    schema.node.addDependency(registry);
    schemas[dt] = schema;
  }
  addRegistryPolicy(scope, registry, registryName, consumers);
  return { registry, schemas };
}

/** Read access for the consumer accounts and the organization; no policy when there are none. */
function addRegistryPolicy(scope: Construct, registry: eventschemas.CfnRegistry, registryName: string, consumers: BanEventConsumers): void {
  const readers: Array<{ sid: string; principal: unknown; condition?: unknown }> = [];
  if (consumers.accountIds.length) {
    readers.push({ sid: 'ConsumerAccountsReadSchemas', principal: consumerAccountsPrincipal(scope, consumers.accountIds) });
  }
  if (consumers.organizationId) {
    readers.push({ sid: 'OrganizationReadSchemas', principal: '*', condition: { StringEquals: { 'aws:PrincipalOrgID': consumers.organizationId } } });
  }
  if (!readers.length) return;
  const stack = Stack.of(scope);
  const registryPolicy = new eventschemas.CfnRegistryPolicy(scope, 'RegistryPolicy', {
    registryName,
    policy: {
      Version: '2012-10-17',
      Statement: readers.map((r) => ({
        Sid: r.sid,
        Effect: 'Allow',
        Principal: r.principal,
        Action: CONSUMER_SCHEMA_ACTIONS,
        Resource: [
          stack.formatArn({ service: 'schemas', resource: 'registry', resourceName: registryName }),
          stack.formatArn({ service: 'schemas', resource: 'schema', resourceName: `${registryName}/*` }),
        ],
        ...(r.condition ? { Condition: r.condition } : {}),
      })),
    },
  });
  registryPolicy.node.addDependency(registry);
}
