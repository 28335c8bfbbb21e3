/** The options of the local demo (`distill-guard local`, `npm start`); the CLI parses them (cli/commands/local.ts). */
export interface LocalDemoOptions {
  /** Run `cdk synth` first (false: use the existing cloud assembly). */
  readonly synth: boolean;
  readonly cdkOut: string;
  readonly stack?: string;
  /** Simulation seed. */
  readonly seed: string;
  readonly days?: number;
  /** Hours of log time to push through the pipeline. @default 4 */
  readonly hours?: number;
  /** Organic accounts in the simulation. */
  readonly organic: number;
  /** Multiplies the extraction-campaign accounts of the small preset. */
  readonly campaignScale: number;
  /** Approve one pending review automatically (after `autoApproveAfter` seconds). */
  readonly autoApprove: boolean;
  /** Reinstate one suspended account at the end (the undo path). */
  readonly demoReinstate: boolean;
  readonly autoApproveAfter: number;
  /** Comma-separated signals to put in per-signal shadow mode before the traffic ('' for none). */
  readonly shadowSignals: string;
  /** Keep the pipeline running after the traffic, until Ctrl-C. */
  readonly keepRunning: boolean;
  /** Run a steady-rate soak of this many seconds instead of the simulation (bench/soak.ts). */
  readonly soak?: number;
  /** Soak: access-log events per second. */
  readonly rate: number;
  /** Also write the summary as JSON to this file. */
  readonly summaryJson?: string;
  /** Print the summary as JSON on stdout (progress goes to stderr). */
  readonly json?: boolean;
  /** Save a screenshot of the review console on the live pipeline to this file. */
  readonly screenshot?: string;
  /** Print the runtime setup lines. */
  readonly verbose: boolean;
}

/** Where the demo's progress goes: stdout, or stderr when stdout carries the JSON summary. */
export interface DemoOutput {
  readonly stream: NodeJS.WriteStream;
  /** Writes one line. */
  readonly out: (line: string) => void;
}

export const fmt = (n: number) => n.toLocaleString('en-US');
export const iso = (t: number) => new Date(t).toISOString().replace(/:\d{2}\.\d{3}Z$/, 'Z');
