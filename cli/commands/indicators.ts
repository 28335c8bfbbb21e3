import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError, arg, positiveNumber } from '../usage';
import { resolveTarget, withTargetOptions } from './ops-common';
import type { ConnOpts } from './ops-common';

/**
 * `distill-guard indicators export --logs L [--usage U] [--cluster ID ... | --since DATE] --out BUNDLE.json`
 * `distill-guard indicators export --local | --stack NAME [--region R --profile P] [--cluster ID ...] [--since DATE] --out BUNDLE.json`
 * `distill-guard indicators import BUNDLE.json [--logs L [--usage U] --out REPORT.json]`
 *
 * Export replays the traffic, takes the confirmed clusters (suspended as a whole; or the ones named) and writes a
 * STIX 2.1 bundle of their indicators. From a deployment it reads the confirmed clusters from the escalation store
 * and their members' features, as the scheduled exporter does (lambdas/share/exporter-core.ts). Import checks a
 * partner's bundle (patterns, key id) and lists what it holds; with --logs it replays the traffic with the bundle
 * loaded (the `external-indicator` signal).
 * The sharing key comes from --key-file or env DISTILL_GUARD_SHARING_KEY, its id from --key-id or env
 * DISTILL_GUARD_SHARING_KEY_ID (docs/indicators.md: how two providers agree on one).
 */
type KeyOpts = { keyFile?: string; keyId?: string };

async function sharingKey(opts: KeyOpts, required: boolean): Promise<{ id: string; secret: string } | null> {
  let secret = process.env.DISTILL_GUARD_SHARING_KEY;
  if (opts.keyFile) {
    try {
      secret = (await fs.readFile(opts.keyFile, 'utf8')).trim();
    } catch (err) {
      throw new Error(`cannot read --key-file '${opts.keyFile}': ${(err as Error).message}`);
    }
  }
  const id = opts.keyId ?? (process.env.DISTILL_GUARD_SHARING_KEY_ID || undefined);
  if (!secret || !id) {
    if (required)
      throw new Error(
        `a sharing key and its id are required (--key-file and --key-id, or env DISTILL_GUARD_SHARING_KEY and DISTILL_GUARD_SHARING_KEY_ID), got key ${secret ? 'set' : 'unset'}, id ${JSON.stringify(id ?? null)}`,
      );
    return null;
  }
  if (secret.length < 16) throw new Error(`the sharing key must be at least 16 characters, got ${secret.length}`);
  return { id, secret };
}

function parseSince(v: string): number {
  const t = Date.parse(v);
  if (!Number.isFinite(t)) throw new Error(`expected a date (ISO 8601), got '${v}'`);
  return t;
}

type ExportOpts = KeyOpts &
  ConnOpts & {
    logs?: string;
    usage?: string;
    cluster?: string[];
    since?: number;
    out: string;
    producer: string;
    tlp: string;
    validDays: number;
    json?: boolean;
  };

/** The confirmed clusters of a deployment (local runtime or AWS), with the rule and code of the scheduled exporter. */
async function exportFromDeployment(opts: ExportOpts, key: { id: string; secret: string }) {
  const target = resolveTarget(opts);
  const { connect } = require('../../ops/operator') as typeof import('../../ops/operator');
  const { confirmedProfiles, campaignsFor } = require('../../lambdas/share/exporter-core') as typeof import('../../lambdas/share/exporter-core');
  const { DynamoDBClient } = require('@aws-sdk/client-dynamodb') as typeof import('@aws-sdk/client-dynamodb');
  const share = require('../../src/share') as typeof import('../../src/share');
  const op = await (target.local
    ? connect({ local: true, endpointsFile: target.endpoints })
    : connect({ local: false, region: opts.region, stack: opts.stack }));
  const r = op.resources;
  const ddb = new DynamoDBClient({
    region: r.region,
    ...(r.endpoints?.dynamodb ? { endpoint: r.endpoints.dynamodb } : {}),
    ...(r.local ? { credentials: { accessKeyId: 'AKIALOCALDISTILLGUARD', secretAccessKey: 'local-secret-not-checked' } } : {}),
  });
  try {
    if (!r.featuresTable)
      throw new Error(
        `cannot find the features table of the deployment (stack output EscalationFeaturesTableName), got ${JSON.stringify(r.featuresTable ?? null)}`,
      );
    const now = Date.now();
    const only = opts.cluster ? new Set(opts.cluster) : undefined;
    const { clusters, profiles } = await confirmedProfiles(
      { ddb, store: op.store, featuresTable: r.featuresTable },
      opts.since ?? now - 72 * 3_600_000,
      now + 1,
      only,
    );
    const missing = [...(only ?? [])].filter((id) => !clusters.has(id));
    if (missing.length)
      throw new Error(
        `not confirmed in this deployment (approved, or suspended and not reinstated): ${missing.map((m) => JSON.stringify(m)).join(', ')}`,
      );
    const campaigns = campaignsFor(clusters, profiles, key.secret, now);
    const bundle = share.buildBundle(campaigns, {
      producer: opts.producer,
      keyId: key.id,
      now,
      tlp: opts.tlp as keyof typeof share.TLP,
      validForMs: opts.validDays * 86_400_000,
    });
    return { bundle, campaigns };
  } finally {
    ddb.destroy();
    op.destroy();
  }
}

export function register(program: Command): void {
  const ind = program.command('indicators').description('share confirmed campaigns with other providers as STIX 2.1 indicators, and use theirs');
  withTargetOptions(
    ind
      .command('export')
      .description('write a STIX 2.1 bundle of the confirmed clusters found in the traffic or in a deployment (no account ids, keys or addresses)')
      .option('--logs <file>', 'access-log records (.jsonl or .jsonl.gz) to replay; or --local / --stack to read a deployment')
      .option('--usage <file>', 'usage events (.jsonl or .jsonl.gz)')
      .option('--cluster <id...>', 'replay: export these clusters instead of every confirmed one; deployment: only these of the confirmed ones')
      .option('--since <date>', 'only clusters active since this date (deployment: features read from then; default 72 hours back)', arg(parseSince))
      .requiredOption('--out <file>', 'where to write the bundle')
      .option('--producer <name>', 'your organisation, named in the bundle', 'distill-guard operator')
      .option('--key-file <file>', 'the sharing key (else env DISTILL_GUARD_SHARING_KEY)')
      .option('--key-id <id>', 'the sharing key id named in the bundle (else env DISTILL_GUARD_SHARING_KEY_ID)')
      .addOption(new Option('--tlp <level>', 'TLP marking').choices(['white', 'green', 'amber', 'red']).default('amber'))
      .option('--valid-days <n>', 'days the indicators stay valid', positiveNumber, 30)
      .option('--json', 'print what was exported as JSON'),
  ).action(async (opts: ExportOpts) => {
    const deployment = ['local', 'endpoints', 'stack', 'region', 'profile'].filter((k) => opts[k as keyof ExportOpts] !== undefined);
    if (opts.logs && deployment.length)
      throw new UsageError(`--logs replays files and --${deployment[0]} reads a deployment: give one of them, got both`);
    if (!opts.logs && !deployment.length)
      throw new UsageError('give --logs FILE to export from traffic, or --local / --stack NAME to export from a deployment, got neither');
    if (opts.usage && !opts.logs) throw new UsageError(`--usage goes with --logs, got --usage '${opts.usage}' with a deployment`);
    const share = require('../../src/share') as typeof import('../../src/share');
    const key = (await sharingKey(opts, true))!;
    const { bundle, campaigns } = opts.logs
      ? await share.exportFromReplay({
          logs: opts.logs,
          usage: opts.usage,
          clusters: opts.cluster,
          since: opts.since,
          producer: opts.producer,
          key,
          tlp: opts.tlp as keyof typeof share.TLP,
          validForMs: opts.validDays * 86_400_000,
        })
      : await exportFromDeployment(opts, key);
    await fs.writeFile(opts.out, JSON.stringify(bundle, null, 1) + '\n');
    const n = bundle.objects.filter((o) => o.type === 'indicator').length;
    if (opts.json) process.stdout.write(JSON.stringify({ out: opts.out, campaigns: campaigns.length, indicators: n, keyId: key.id }) + '\n');
    else process.stderr.write(`indicators: ${campaigns.length} confirmed campaign(s), ${n} indicator(s), key id ${key.id} -> ${opts.out}\n`);
  });
  ind
    .command('import')
    .description("check a partner's STIX 2.1 bundle and list its indicators; with --logs, replay the traffic with it loaded")
    .argument('<bundle>', 'the STIX 2.1 bundle (JSON)')
    .option('--key-file <file>', 'the sharing key (else env DISTILL_GUARD_SHARING_KEY); without it hashed values cannot match')
    .option('--key-id <id>', 'the sharing key id (else env DISTILL_GUARD_SHARING_KEY_ID)')
    .option('--logs <file>', 'access-log records to replay with the indicators loaded')
    .option('--usage <file>', 'usage events')
    .option('--out <file>', 'where to write the replay report (with --logs)')
    .option('--json', 'print the indicators (and, with --logs, the accounts they matched) as JSON')
    .action(async (file: string, opts: KeyOpts & { logs?: string; usage?: string; out?: string; json?: boolean }) => {
      if (opts.logs && !opts.out) throw new UsageError(`--out is required with --logs, got --logs '${opts.logs}' alone`);
      const share = require('../../src/share') as typeof import('../../src/share');
      let json: unknown;
      try {
        json = JSON.parse(await fs.readFile(file, 'utf8'));
      } catch (err) {
        throw new Error(`cannot read bundle '${file}': ${(err as Error).message}`);
      }
      const set = share.readBundle(json, await sharingKey(opts, false));
      for (const i of opts.json ? [] : set.indicators) {
        const until = i.validUntil !== null ? new Date(i.validUntil).toISOString() : 'no expiry';
        process.stdout.write(
          `${i.partner}: ${i.name} (${i.id}), valid until ${until}: ${i.subnets.length} /24s, ${i.subnetHashes.length} hashed /24s, ${i.userAgents.length} user agents, ${i.templateHashes.length} hashed templates${i.behaviour ? ', a usage profile' : ''}\n`,
        );
      }
      if (!opts.logs || !opts.out) {
        if (opts.json) process.stdout.write(JSON.stringify({ indicators: set.indicators }) + '\n');
        return;
      }
      const { replayFiles } = require('../../src/replay/index') as typeof import('../../src/replay/index');
      const report = await replayFiles({ logs: opts.logs, usage: opts.usage, external: set });
      await fs.writeFile(opts.out, JSON.stringify(report, null, 1) + '\n');
      const hits = report.accounts.filter((a) => a.reasons.includes('external-indicator'));
      if (opts.json)
        process.stdout.write(JSON.stringify({ indicators: set.indicators, out: opts.out, matched: hits.map((a) => a.accountId) }) + '\n');
      else process.stderr.write(`indicators: ${hits.length} account(s) with the external-indicator signal -> ${opts.out}\n`);
    });
}
