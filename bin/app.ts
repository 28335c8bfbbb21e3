#!/usr/bin/env node
/**
 * The distill-guard CDK app: `npx cdk synth` / `npx cdk deploy`. Configure with the `distill-guard` context key
 * (cdk.json, or `-c distill-guard='{"demoApi":false}'`); see docs/deploy.md. cdk-nag's AwsSolutions pack checks
 * every synth; acknowledged findings are listed in lib/nag-acknowledgements.ts.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DistillGuardStack } from '../lib/distill-guard-stack';

const app = new App();
new DistillGuardStack(app, 'DistillGuard', {
  env:
    process.env.CDK_DEFAULT_ACCOUNT && process.env.CDK_DEFAULT_REGION
      ? { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION }
      : undefined,
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
