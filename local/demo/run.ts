/**
 * The local demo (`distill-guard local`, `npm start`): check java, synthesize the CDK app, then run the scenario
 * (./scenario.ts) on the pipeline built from cdk.out, or a soak run (bench/soak.ts) with `soak`. The scenario's
 * modules load only after the synth, as they pull in the SDK clients and the simulator.
 */
import { DemoOutput, LocalDemoOptions } from './options';
import { requireJava, runCdkSynth } from './prerequisites';

/** Runs the demo; resolves with the process exit code. */
export async function runLocalDemo(o: LocalDemoOptions): Promise<number> {
  const t0 = Date.now();
  requireJava(); // before the minute of cdk synth
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // With --json the progress goes to stderr and stdout carries only the summary.
  const stream = o.json ? process.stderr : process.stdout;
  const io: DemoOutput = { stream, out: (s: string) => stream.write(`${s}\n`) };
  if (o.synth) {
    io.out('distill-guard local: cdk synth (bundling the handlers with the local esbuild) ...');
    const ms = await runCdkSynth();
    io.out(`  synthesized in ${(ms / 1000).toFixed(1)} s`);
  }
  if (o.soak) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
    const { runSoak } = require('../../bench/soak') as typeof import('../../bench/soak');
    const r = await runSoak({ seconds: Number(o.soak), rate: Number(o.rate), cdkOut: o.cdkOut, stackName: o.stack, log: io.out });
    return r.ok ? 0 : 1;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded only when used (tsx runs import() as ESM, which needs file extensions)
  const { runScenario } = require('./scenario') as typeof import('./scenario');
  return runScenario(o, io, t0);
}
