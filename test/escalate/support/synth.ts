/**
 * Synthesize the Escalation construct in a test stack (bundling skipped) and take the state machine definition
 * (ASL) out of the template, with CloudFormation tokens resolved to readable placeholders.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { Escalation, EscalationProps } from '../../../lib/escalate/escalation';
import { ControlTable } from '../../../lib/state/control-table';

export interface Synthesized {
  stack: Stack;
  escalation: Escalation;
  template: Template;
  json: Record<string, any>;
  /** The ASL, tokens replaced by `<LogicalId>` (Ref) or `<LogicalId.Attr>` (GetAtt). */
  definition: Record<string, any>;
  /** Logical id of each escalation function by role. */
  functions: {
    caseFn: string;
    suspensionFn: string;
    expirerFn: string;
    reinstateFn: string;
    restrictFn: string;
    clusterDecisionFn: string;
    reviewTaskFn: string;
    reviewApiFn: string;
  };
}

export function synthEscalation(props: Partial<EscalationProps> = {}): Synthesized {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'EscalateTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const control = new ControlTable(stack, 'Control');
  const features = new dynamodb.Table(stack, 'Features', {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
  });
  features.addGlobalSecondaryIndex({
    indexName: 'byHour',
    partitionKey: { name: 'gsi1pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'gsi1sk', type: dynamodb.AttributeType.STRING },
  });
  const escalation = new Escalation(stack, 'Escalation', {
    controlTable: control.table,
    featuresTable: features,
    reviewTimeout: Duration.hours(24),
    ...props,
  });
  const template = Template.fromStack(stack);
  const json = template.toJSON() as Record<string, any>;
  const sm = Object.values<any>(json.Resources).find((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  const definition = JSON.parse(resolveTokens(sm.Properties.DefinitionString));
  const id = (c: { node: { defaultChild?: unknown } }) => stack.getLogicalId(c.node.defaultChild as any);
  return {
    stack,
    escalation,
    template,
    json,
    definition,
    functions: {
      caseFn: id(escalation.caseFunction),
      suspensionFn: id(escalation.suspensionFunction),
      expirerFn: id(escalation.expirerFunction),
      reinstateFn: id(escalation.reinstateFunction),
      restrictFn: id(escalation.restrictFunction),
      clusterDecisionFn: id(escalation.clusterDecisionFunction),
      reviewTaskFn: id(escalation.reviewApi.taskFunction),
      reviewApiFn: id(escalation.reviewApi.apiFunction),
    },
  };
}

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'us-east-1',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
};

export function resolveTokens(v: any): string {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    if ('Fn::Join' in v) return (v['Fn::Join'][1] as any[]).map(resolveTokens).join(v['Fn::Join'][0]);
    if ('Ref' in v) return PSEUDO[v.Ref] ?? `<${v.Ref}>`;
    if ('Fn::GetAtt' in v) return `<${v['Fn::GetAtt'].join('.')}>`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(v)}`);
}
