/** Shared helpers of the CDK assertion tests: synth the full app with bundling skipped. */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { DistillGuardStack, DistillGuardStackProps } from '../../lib/distill-guard-stack';

/** A DistillGuardStack in an App that skips bundling; `context` becomes the `distill-guard` context key. */
export function synthStack(opts: { context?: Record<string, unknown>; props?: DistillGuardStackProps } = {}): {
  app: App;
  stack: DistillGuardStack;
  template: Template;
} {
  const app = new App({
    context: {
      'aws:cdk:bundling-stacks': [],
      ...(opts.context ? { 'distill-guard': opts.context } : {}),
    },
  });
  const stack = new DistillGuardStack(app, 'DistillGuard', opts.props);
  return { app, stack, template: Template.fromStack(stack) };
}

/** Resources of a type, as [logicalId, resource] pairs. */
export function resourcesOf(template: Template, type: string): Array<[string, any]> {
  return Object.entries(template.findResources(type));
}

/** Every IAM statement of the template (identity policies, managed policies, inline role policies). */
export function iamStatements(template: Template): Array<{ owner: string; statement: any }> {
  const out: Array<{ owner: string; statement: any }> = [];
  const json = template.toJSON();
  for (const [id, r] of Object.entries<any>(json.Resources)) {
    const docs: any[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') docs.push(r.Properties.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') for (const p of r.Properties.Policies ?? []) docs.push(p.PolicyDocument);
    for (const d of docs) for (const s of d.Statement) out.push({ owner: id, statement: s });
  }
  return out;
}
