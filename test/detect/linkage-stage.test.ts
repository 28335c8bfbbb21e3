/**
 * The linkage-stage handler refuses an event it cannot run (unknown stage, part outside the plan, plan outside the
 * bucket's run prefix) with an error showing the value, before touching the bucket.
 */
import { checkStageEvent, type LinkageStageEvent } from '../../lambdas/detect/linkage-stage';

const plan = { prefix: 'runs/linkage-20261206T134000Z/', accounts: 30, accountShards: 3, keyPartitions: 2, periodStart: 0, periodEnd: 1 };

describe('linkage-stage event', () => {
  test.each([[{ stage: 'frequencies', part: 1, plan }], [{ stage: 'index', part: 2, plan }], [{ stage: 'pairs', part: 0, plan }]])(
    'accepts %j',
    (event) => {
      expect(() => checkStageEvent(event as LinkageStageEvent)).not.toThrow();
    },
  );

  test.each([
    [{ stage: 'merge', part: 0, plan }, 'linkage stage must be one of frequencies, index, pairs, got "merge"'],
    [{ stage: 'pairs', part: 2, plan }, 'linkage pairs part must be in 0..1, got 2'],
    [{ stage: 'index', part: -1, plan }, 'linkage index part must be in 0..2, got -1'],
    [{ stage: 'index', part: '1', plan }, 'linkage index part must be in 0..2, got "1"'],
    [{ stage: 'index', part: 0, plan: { ...plan, prefix: 'other/' } }, 'linkage plan prefix must start with runs/, got "other/"'],
    [{ stage: 'index', part: 0 }, 'linkage plan prefix must start with runs/, got undefined'],
  ])('refuses %j', (event, message) => {
    expect(() => checkStageEvent(event as unknown as LinkageStageEvent)).toThrow(message);
  });
});
