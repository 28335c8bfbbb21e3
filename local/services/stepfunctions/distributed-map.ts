/**
 * Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`) on the interpreter's inline Map. The items
 * come from `ItemsPath` (or the state input), `ItemSelector` sees `$$.Map.Item.*`, and `MaxConcurrency` bounds the
 * children at once, as in AWS; each child runs in this process, not as an execution of its own (no map runs, no
 * Express semantics). What differs is rewritten or refused here, once, when the state machine is created:
 *
 * - a failed child fails the map with `States.ExceedToleratedFailureThreshold`, as AWS does at the default
 *   tolerance of 0, so a Retry or Catch on the map sees the AWS error: each child's states are wrapped in a
 *   one-branch Parallel whose Catch ends in a Fail state of that name (those states show in the history);
 * - `ItemReader` (S3 items), `ResultWriter`, `ItemBatcher` and a tolerated failure above 0 are refused with an
 *   error naming the state: locally they would silently run differently.
 */
import { AwsServiceError } from '../aws-http';

/** The error AWS fails a distributed map with when more children failed than it tolerates. */
export const EXCEEDED_TOLERATED_FAILURES = 'States.ExceedToleratedFailureThreshold';

const UNSUPPORTED = ['ItemReader', 'ResultWriter', 'ItemBatcher'] as const;

type StateDef = Record<string, unknown>;
type Processor = { StartAt: string; States: Record<string, StateDef>; ProcessorConfig?: { Mode?: string } };

/** A DISTRIBUTED Map state. */
export function isDistributedMap(def: StateDef): boolean {
  const proc = def.ItemProcessor as Processor | undefined;
  return def.Type === 'Map' && proc?.ProcessorConfig?.Mode === 'DISTRIBUTED';
}

/** Refuses what the local interpreter would run differently (see the module comment). */
export function checkDistributedMap(stateName: string, def: StateDef): void {
  for (const field of UNSUPPORTED) {
    if (def[field] !== undefined) throw new AwsServiceError('InvalidDefinition', `Distributed Map ${stateName}: ${field} is not emulated locally`);
  }
  for (const field of ['ToleratedFailurePercentage', 'ToleratedFailureCount', 'ToleratedFailurePercentagePath', 'ToleratedFailureCountPath']) {
    const v = def[field];
    if (v !== undefined && v !== 0) {
      throw new AwsServiceError(
        'InvalidDefinition',
        `Distributed Map ${stateName}: ${field} other than 0 is not emulated locally, got ${JSON.stringify(v)}`,
      );
    }
  }
}

/** In place: the map's child states wrapped so that any child failure is the AWS error (see the module comment). */
export function wrapDistributedChildren(stateName: string, def: StateDef): void {
  const proc = def.ItemProcessor as Processor;
  const { ProcessorConfig, ...branch } = proc;
  // state names are unique across the whole machine: these carry the map's
  const child = `${stateName} (local child)`;
  const exceeded = `${stateName} (local failure threshold)`;
  def.ItemProcessor = {
    ProcessorConfig,
    StartAt: child,
    States: {
      [child]: {
        Type: 'Parallel',
        Branches: [branch],
        Catch: [{ ErrorEquals: ['States.ALL'], Next: exceeded }],
        OutputPath: '$[0]',
        End: true,
      },
      [exceeded]: {
        Type: 'Fail',
        Error: EXCEEDED_TOLERATED_FAILURES,
        Cause: 'The specified tolerated failure threshold was exceeded',
      },
    },
  };
}
