/**
 * A minimal local Amazon API Gateway (REST API v1 control plane, REST-JSON protocol) covering API keys and usage
 * plans, so a suspension step that disables an account's keys, and a restriction that moves them to a throttled
 * usage plan, work locally with `@aws-sdk/client-api-gateway` via `endpoint` or `AWS_ENDPOINT_URL_API_GATEWAY`.
 *
 * Operations: CreateApiKey (POST /apikeys), GetApiKeys (GET /apikeys: name prefix, customerId, includeValues,
 * limit/position paging), GetApiKey (GET /apikeys/{id}?includeValue=), UpdateApiKey (PATCH /apikeys/{id},
 * patchOperations `replace` on /enabled, /name, /description, /customerId), DeleteApiKey (DELETE /apikeys/{id});
 * CreateUsagePlan (POST /usageplans: name, throttle, quota), GetUsagePlans, GetUsagePlan, CreateUsagePlanKey
 * (POST /usageplans/{id}/keys), GetUsagePlanKeys (GET, nameQuery and paging), GetUsagePlanKey, DeleteUsagePlanKey.
 * As in AWS a key belongs to at most one plan (the local plans all stand for one stage): a second plan answers
 * ConflictException. A tag `local:id` on CreateUsagePlan sets the plan's id, so the local runtime can give a plan
 * the physical id the template resolves to. Hand-written: no npm emulator covers API Gateway's control plane.
 *
 * Not emulated: the request path (stages, methods, authorizers, throttling): the local runtime calls the authorizer
 * and handlers itself; `planOfKey` tells it which plan (and so which throttle) a key is on. Requests must be
 * SigV4-signed (header shape only; IAM is not evaluated).
 *
 * This file composes the parts in ./apigateway/: the key store (api-keys.ts), the usage plans (usage-plans.ts) and
 * the REST-JSON wire API (rest-api.ts).
 */
import { listen } from './aws-http';
import { ApiKeyStore } from './apigateway/api-keys';
import { apiGatewayHandler } from './apigateway/rest-api';
import { LocalApiGateway, LocalApiGatewayOptions } from './apigateway/types';
import { UsagePlanStore } from './apigateway/usage-plans';

export * from './apigateway/types';

/** Start the local API Gateway endpoint. */
export async function startApiGateway(opts: LocalApiGatewayOptions = {}): Promise<LocalApiGateway> {
  const keys = new ApiKeyStore();
  const plans = new UsagePlanStore();
  const ep = await listen(apiGatewayHandler(keys, plans), opts.port ?? 0);
  return {
    ...ep,
    apiKeys: () => keys.all().map((k) => ({ ...k })),
    createApiKey: (input) => keys.create(input as Record<string, unknown>),
    findByValue: (value) => keys.all().find((k) => k.value === value),
    usagePlans: () => plans.views(),
    planOfKey: (keyId) => plans.planOfKey(keyId),
  };
}
