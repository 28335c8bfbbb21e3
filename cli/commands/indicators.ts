import { promises as fs } from 'node:fs';
import { Command, Option } from 'commander';
import { UsageError, arg, positiveNumber } from '../usage';

/**
 * `distill-guard indicators export --logs L [--usage U] [--cluster ID ... | --since DATE] --out BUNDLE.json`
 * `distill-guard indicators import BUNDLE.json [--logs L [--usage U] --out REPORT.json]`
 *
 * Export replays the traffic, takes the confirmed clusters (suspended as a whole; or the ones named) and writes a
 * STIX 2.1 bundle of their indicators. Import checks a partner's bundle (patterns, key id) and lists what it
 * holds; with --logs it replays the traffic with the bundle loaded (the `external-indicator` signal).
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
    if (required) throw new Error(`a sharing key and its id are required (--key-file and --key-id, or env DISTILL_GUARD_SHARING_KEY and DISTILL_GUARD_SHARING_KEY_ID), got key ${secret ? 'set' : 'unset'}, id ${JSON.stringify(id ?? null)}`);
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

export function register(program: Command): void {
  const ind = program.command('indicators').description('share confirmed campaigns with other providers as STIX 2.1 indicators, and use theirs');
  ind
    .command('export')
    .description('write a STIX 2.1 bundle of the confirmed clusters found in the traffic (no account ids, keys or addresses)')
    .requiredOption('--logs <file>', 'access-log records (.jsonl or .jsonl.gz)')
    .option('--usage <file>', 'usage events (.jsonl or .jsonl.gz)')
    .option('--cluster <id...>', 'export these clusters (ids of the replay report) instead of every confirmed one')
    .option('--since <date>', 'only clusters active since this date', arg(parseSince))
    .requiredOption('--out <file>', 'where to write the bundle')
    .option('--producer <name>', 'your organisation, named in the bundle', 'distill-guard operator')
    .option('--key-file <file>', 'the sharing key (else env DISTILL_GUARD_SHARING_KEY)')
    .option('--key-id <id>', 'the sharing key id named in the bundle (else env DISTILL_GUARD_SHARING_KEY_ID)')
    .addOption(new Option('--tlp <level>', 'TLP marking').choices(['white', 'green', 'amber', 'red']).default('amber'))
    .option('--valid-days <n>', 'days the indicators stay valid', positiveNumber, 30)
    .option('--json', 'print what was exported as JSON')
    .action(async (opts: KeyOpts & { logs: string; usage?: string; cluster?: string[]; since?: number; out: string; producer: string; tlp: string; validDays: number; json?: boolean }) => {
      const share = require('../../src/share') as typeof import('../../src/share');
      const days = opts.validDays;
      const key = (await sharingKey(opts, true))!;
      const { bundle, campaigns } = await share.exportFromReplay({
        logs: opts.logs,
        usage: opts.usage,
        clusters: opts.cluster,
        since: opts.since,
        producer: opts.producer,
        key,
        tlp: opts.tlp as keyof typeof share.TLP,
        validForMs: days * 86_400_000,
      });
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
      if (opts.json) process.stdout.write(JSON.stringify({ indicators: set.indicators, out: opts.out, matched: hits.map((a) => a.accountId) }) + '\n');
      else process.stderr.write(`indicators: ${hits.length} account(s) with the external-indicator signal -> ${opts.out}\n`);
    });
}
