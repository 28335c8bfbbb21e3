/** API Gateway REST APIs, API keys, usage plans and the keys on them. */
import { ResourceHandler } from '../handler';
import { bool, num, shortHash, str } from '../names';

export const API_GATEWAY_RESOURCES: Record<string, ResourceHandler> = {
  'AWS::ApiGateway::RestApi': {
    attributes: ({ resolver: r }, id, name) => r.setAttr(id, 'RootResourceId', `root${shortHash(name)}`),
  },
  'AWS::ApiGateway::ApiKey': {
    physicalName: (ctx, id) => `key-${shortHash(`${ctx.stackName}/${id}`)}`,
    addToModel: ({ resolver: r, model }, id, name, P) => {
      model.apiKeys.push({
        logicalId: id,
        id: name,
        name: str(r.resolve(P.Name)) ?? name,
        enabled: bool(r.resolve(P.Enabled), false),
        value: str(r.resolve(P.Value)),
      });
    },
  },
  'AWS::ApiGateway::UsagePlan': {
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const t = r.resolve(P.Throttle) as { RateLimit?: number; BurstLimit?: number } | undefined;
      model.usagePlans.push({
        logicalId: id,
        id: name,
        name: str(r.resolve(P.UsagePlanName)) ?? name,
        ...(t ? { throttle: { rateLimit: num(t.RateLimit), burstLimit: num(t.BurstLimit) } } : {}),
      });
    },
  },
  'AWS::ApiGateway::UsagePlanKey': {
    addToModel: ({ resolver: r, model }, id, _name, P) => {
      model.usagePlanKeys.push({ logicalId: id, planId: String(r.resolve(P.UsagePlanId)), keyId: String(r.resolve(P.KeyId)) });
    },
  },
};
