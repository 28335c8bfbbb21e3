/**
 * A cloud assembly of distill-guard deployments with indicator sharing added (`addIndicatorSharing`), synthesized
 * with the handlers bundled (as `cdk synth` does), for the local runtime: each provider is its own stack, sharing
 * with one partner whose principal is a placeholder account (the local runtime does not evaluate bucket policies).
 */
import * as fs from 'fs';
import { App, Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DistillGuardStack } from '../../lib/distill-guard-stack';

export interface SharingProvider {
  /** Stack name. */
  stack: string;
  /** The organisation's name in its bundles. */
  producer: string;
  /** The partner's name (its prefixes `partners/<name>/` and `inbound/<name>/`). */
  partner: string;
  /** Id of the sharing key agreed with the partner. */
  keyId: string;
}

/** Logical-id prefix of the partner key secret in each stack (the value is agreed out of band, then stored). */
export const SHARING_KEY_ID = 'PartnerSharingKey';

export function synthSharingApp(outdir: string, providers: SharingProvider[]): void {
  fs.rmSync(outdir, { recursive: true, force: true });
  const app = new App({ outdir });
  for (const p of providers) {
    const stack = new DistillGuardStack(app, p.stack);
    const key = new secretsmanager.Secret(stack, SHARING_KEY_ID, { description: `sharing key agreed with ${p.partner}` });
    Validations.of(key.node.defaultChild!).acknowledge({ id: 'AwsSolutions-SMG4', reason: 'rotated by agreement with the partner' });
    stack.guard.addIndicatorSharing({
      producer: p.producer,
      partners: [{ name: p.partner, keyId: p.keyId, keySecret: key, principals: [new iam.AccountPrincipal('444455556666')] }],
      schedule: Duration.days(1),
    });
  }
  app.synth();
}
