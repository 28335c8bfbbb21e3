/**
 * One sharded-linkage child in its own process, as one Lambda of the Distributed Map runs it, so that its peak
 * memory is its own (bench/detect-scale-sharded.ts starts it).
 *
 *   node --import tsx bench/shard-child.ts <store dir> <plan file> <stage> <part>
 *
 * Prints one JSON line: the stage's stats, the process's peak RSS and its CPU time.
 */
import { readFileSync } from 'node:fs';
import { DEFAULT_DETECTION_CONFIG } from '../src/detect/config';
import { runShardStage, type ShardPlan, type ShardStage } from '../src/detect/linkage/sharded';
import { FileShardStore } from '../src/detect/linkage/sharded/file-store';

async function main(): Promise<void> {
  const [root, planFile, stage, part] = process.argv.slice(2);
  const plan = JSON.parse(readFileSync(planFile, 'utf8')) as ShardPlan;
  const stats = await runShardStage(new FileShardStore(root), plan, DEFAULT_DETECTION_CONFIG.linkage, stage as ShardStage, Number(part));
  const usage = process.resourceUsage();
  process.stdout.write(
    JSON.stringify({ ...stats, peakRssBytes: usage.maxRSS * 1024, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000 }) + '\n',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
