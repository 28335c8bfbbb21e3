/** EventBridge buses, rules, archives and schema registries, EventBridge Scheduler schedules, and SNS topics. */
import { ResourceHandler } from '../handler';
import { RuleTargetModel } from '../model';
import { localName, num, parseArn, str } from '../names';
import { TemplateResolver } from '../resolver';

/** The fields of `AWS::Events::Rule` targets read here (resolved values). */
interface CfnRuleTarget {
  Id?: unknown;
  Arn?: unknown;
  Input?: unknown;
  InputPath?: unknown;
  InputTransformer?: { InputPathsMap?: unknown; InputTemplate?: unknown };
  DeadLetterConfig?: { Arn?: unknown };
  RetryPolicy?: { MaximumRetryAttempts?: unknown; MaximumEventAgeInSeconds?: unknown };
  SqsParameters?: { MessageGroupId?: unknown };
}

function ruleTargets(r: TemplateResolver, targets: unknown): RuleTargetModel[] {
  return ((r.resolve(targets) as CfnRuleTarget[] | undefined) ?? []).map((t) => ({
    id: String(t.Id),
    arn: String(t.Arn),
    input: str(t.Input),
    inputPath: str(t.InputPath),
    inputTransformer: t.InputTransformer
      ? {
          inputPathsMap: (t.InputTransformer.InputPathsMap ?? {}) as Record<string, string>,
          inputTemplate: String(t.InputTransformer.InputTemplate),
        }
      : undefined,
    deadLetterArn: str(t.DeadLetterConfig?.Arn),
    retryPolicy: t.RetryPolicy
      ? { maximumRetryAttempts: num(t.RetryPolicy.MaximumRetryAttempts), maximumEventAgeInSeconds: num(t.RetryPolicy.MaximumEventAgeInSeconds) }
      : undefined,
    sqsMessageGroupId: str(t.SqsParameters?.MessageGroupId),
  }));
}

export const EVENT_RESOURCES: Record<string, ResourceHandler> = {
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    attributes: ({ resolver: r, arn }, id, name) => {
      r.setAttr(id, 'Arn', arn('events', `event-bus/${name}`));
      r.setAttr(id, 'Name', name);
    },
    addToModel: ({ resolver: r, model }, id, name) => model.buses.push({ logicalId: id, name, arn: r.getAtt(id, 'Arn') }),
  },
  'AWS::Events::Rule': {
    physicalName: (ctx, id) => localName(ctx.stackName, id, 64),
    nameProperty: 'Name',
    attributes: ({ resolver: r, arn }, id, name) => r.setAttr(id, 'Arn', arn('events', `rule/${name}`)),
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const bus = str(r.resolve(P.EventBusName)) ?? 'default';
      const busName = bus.startsWith('arn:') ? parseArn(bus).resource.replace(/^event-bus\//, '') : bus;
      let pattern = r.resolve(P.EventPattern) as Record<string, unknown> | string | undefined;
      if (typeof pattern === 'string') pattern = JSON.parse(pattern) as Record<string, unknown>;
      const targets = ruleTargets(r, P.Targets);
      model.rules.push({
        logicalId: id,
        name,
        arn: r.getAtt(id, 'Arn'),
        eventBusName: busName,
        eventPattern: pattern,
        scheduleExpression: str(r.resolve(P.ScheduleExpression)),
        enabled: (str(r.resolve(P.State)) ?? 'ENABLED') === 'ENABLED',
        targets,
      });
    },
  },
  'AWS::Events::Archive': {
    attributes: ({ resolver: r, arn }, id, name) => r.setAttr(id, 'Arn', arn('events', `archive/${name}`)),
  },
  'AWS::EventSchemas::Registry': {
    attributes: ({ resolver: r, arn }, id, name) => {
      r.setAttr(id, 'RegistryArn', arn('schemas', `registry/${name}`));
      r.setAttr(id, 'RegistryName', name);
    },
  },
  'AWS::Scheduler::ScheduleGroup': {
    attributes: ({ resolver: r, arn }, id, name) => r.setAttr(id, 'Arn', arn('scheduler', `schedule-group/${name}`)),
  },
  'AWS::Scheduler::Schedule': {
    nameProperty: 'Name',
    addToModel: ({ resolver: r, model }, id, name, P) => {
      const t = r.resolve(P.Target) as { Arn: string; Input?: string; RoleArn?: string };
      model.schedules.push({
        logicalId: id,
        name,
        groupName: str(r.resolve(P.GroupName)) ?? 'default',
        scheduleExpression: String(r.resolve(P.ScheduleExpression)),
        enabled: (str(r.resolve(P.State)) ?? 'ENABLED') === 'ENABLED',
        target: { arn: t.Arn, input: t.Input, roleArn: t.RoleArn },
      });
    },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    attributes: ({ resolver: r, arn }, id, name) => {
      const a = arn('sns', name);
      r.setRef(id, a);
      r.setAttr(id, 'TopicArn', a);
    },
  },
};
