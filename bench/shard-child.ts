/**
 * One child (or step) of a distributed detection run in its own process, as one Lambda of the state machine runs
 * it, so that its peak memory is its own (bench/detect-scale-sharded.ts starts it). `decide` runs the core's
 * decisions without the writes (the bench has no tables).
 *
 *   node --import tsx bench/shard-child.ts <store dir> <plan file> <stage> <part>
 *
 * Prints one JSON line: the stage's stats (and, for `offsets`, the plan), the process's peak RSS and its CPU time.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import { measured } from '../src/detect/linkage/sharded';
import { FileShardStore } from '../src/detect/linkage/sharded/file-store';
import { decideShard } from '../src/detect/scoring/sharded';
import { decideInputs, runRunStage, type RunPlan } from '../src/detect/sharded-run/stages';

async function main(): Promise<void> {
  const [root, planFile, stage, part] = process.argv.slice(2);
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as RunPlan;
  const store = new FileShardStore(root);
  const config = DEFAULT_DETECTION_CONFIG;
  const stats =
    stage === 'decide'
      ? await measured('decide', Number(part), async () => {
          const d = await decideInputs(store, plan, Number(part));
          const input = { modelFirstSeen: d.models, now: plan.periodEnd, periodStart: plan.periodStart, config };
          const { accounts } = decideShard(d.profiles, d.linkage, d.context, input);
          return { input: d.profiles.length, output: accounts.filter((a) => a.decision !== 'allow').length };
        })
      : await runRunStage(store, plan, config, stage as Parameters<typeof runRunStage>[3], Number(part));
  const usage = process.resourceUsage();
  process.stdout.write(
    JSON.stringify({ ...stats, peakRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
