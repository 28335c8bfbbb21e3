/** Shared helpers of the CDK assertion tests: synth the full app with bundling skipped. */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
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

/** Render a Fn::Join'd string with `<LogicalId>` placeholders for tokens. */
export function render(v: any): string {
  if (typeof v === 'string') return v;
  if (v['Fn::Join']) return v['Fn::Join'][1].map(render).join(v['Fn::Join'][0]);
  if (v.Ref) return `<${v.Ref}>`;
  if (v['Fn::GetAtt']) return `<${v['Fn::GetAtt'][0]}.${v['Fn::GetAtt'][1]}>`;
  return '<token>';
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

/** The template has a Node 22 ARM64 function with these properties and (at least) these environment variables. */
export function hasNode22Function(template: Template, props: Record<string, unknown>, env: Record<string, unknown>): void {
  template.hasResourceProperties('AWS::Lambda::Function', {
    Runtime: 'nodejs22.x',
    Architectures: ['arm64'],
    ...props,
    Environment: { Variables: Match.objectLike(env) },
  });
}
