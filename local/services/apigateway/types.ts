/** The public types of the local API Gateway, shared by its parts (see ../apigateway.ts). */
import { LocalEndpoint } from '../aws-http';

export interface ApiKeyRecord {
  id: string;
  value: string;
  name: string;
  customerId?: string;
  description?: string;
  enabled: boolean;
  createdDate: number;
  lastUpdatedDate: number;
  stageKeys: string[];
  tags: Record<string, string>;
}

export interface UsagePlanRecord {
  id: string;
  name: string;
  description?: string;
  throttle?: { rateLimit?: number; burstLimit?: number };
  quota?: Record<string, unknown>;
  apiStages: unknown[];
  tags: Record<string, string>;
  /** Key ids on the plan. */
  keys: Set<string>;
}

/** A usage plan as the in-process view returns it: its key ids sorted. */
export type UsagePlanView = Omit<UsagePlanRecord, 'keys'> & { keys: string[] };

export interface LocalApiGatewayOptions {
  /** @default a free port */
  readonly port?: number;
}

export interface LocalApiGateway extends LocalEndpoint {
  /** All keys (in-process view for tests and the local runtime's demo authorizer). */
  apiKeys(): ApiKeyRecord[];
  /** Create a key in-process (e.g. seeding demo accounts). */
  createApiKey(input: {
    name: string;
    customerId?: string;
    enabled?: boolean;
    value?: string;
    description?: string;
    tags?: Record<string, string>;
  }): ApiKeyRecord;
  /** Find a key by its value (the demo authorizer path: x-api-key -> account). */
  findByValue(value: string): ApiKeyRecord | undefined;
  /** All usage plans with their key ids (in-process view). */
  usagePlans(): UsagePlanView[];
  /** The plan a key is on (the throttle the request path would apply), if any. */
  planOfKey(keyId: string): UsagePlanView | undefined;
}
