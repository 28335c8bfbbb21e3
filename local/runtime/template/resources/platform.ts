/** IAM roles and policies, KMS keys, and CloudWatch Logs groups and subscription filters. */
import { ResourceHandler } from '../handler';
import { shortHash, str } from '../names';

export const PLATFORM_RESOURCES: Record<string, ResourceHandler> = {
  'AWS::IAM::Role': {
    attributes: ({ resolver: r, partition, accountId }, id, name) => {
      r.setAttr(id, 'Arn', `arn:${partition}:iam::${accountId}:role/${name}`);
      r.setAttr(id, 'RoleId', `AROA${shortHash(name).toUpperCase()}`);
    },
  },
  'AWS::IAM::ManagedPolicy': {
    attributes: ({ resolver: r, partition, accountId }, id, name) => r.setRef(id, `arn:${partition}:iam::${accountId}:policy/${name}`),
  },
  'AWS::KMS::Key': {
    attributes: ({ resolver: r, arn }, id, name) => {
      r.setRef(id, `00000000-0000-0000-0000-${shortHash(name)}0000`);
      r.setAttr(id, 'Arn', arn('kms', `key/${r.ref(id)}`));
    },
  },
  'AWS::Logs::LogGroup': {
    // The explicit name is applied here, not through nameProperty: the group's Ref is its name.
    attributes: ({ resolver: r, arn, explicitName }, id, name, res) => {
      if (explicitName(res, 'LogGroupName')) r.setRef(id, explicitName(res, 'LogGroupName')!);
      r.setAttr(id, 'Arn', arn('logs', `log-group:${explicitName(res, 'LogGroupName') ?? name}:*`));
    },
  },
  'AWS::Logs::SubscriptionFilter': {
    addToModel: ({ resolver: r, model }, id, name, P) => {
      model.subscriptionFilters.push({
        logicalId: id,
        logGroupName: String(r.resolve(P.LogGroupName)),
        filterName: str(r.resolve(P.FilterName)) ?? name,
        filterPattern: str(r.resolve(P.FilterPattern)) ?? '',
        destinationArn: String(r.resolve(P.DestinationArn)),
      });
    },
  },
};
