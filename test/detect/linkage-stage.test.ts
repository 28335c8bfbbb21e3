/**
 * The linkage-stage and score-shard handlers refuse an event it cannot run (unknown stage, part outside the plan, plan outside the
 * bucket's run prefix) with an error showing the value, before touching the bucket.
 */
import { checkStageEvent, type LinkageStageEvent } from '../../lambdas/detect/linkage-stage';
import { checkScoreShardEvent, type ScoreShardEvent } from '../../lambdas/detect/score-shard';

const plan = {
  prefix: 'runs/linkage-20261206T134000Z/',
  accounts: 30,
  accountShards: 3,
  keyPartitions: 2,
  periodStart: 0,
  periodEnd: 1,
  bounds: ['m', 't'],
};

describe('linkage-stage event', () => {
  test.each([
    [{ stage: 'frequencies', part: 1, plan }],
    [{ stage: 'index', part: 2, plan }],
    [{ stage: 'pairs', part: 0, plan }],
    [{ stage: 'partition', part: 2, plan }],
    [{ stage: 'parts', part: 0, plan }],
    [{ stage: 'offsets', part: 0, plan }],
    [{ stage: 'merge', part: 0, plan }],
    [{ stage: 'reduce', part: 0, plan }],
  ])('accepts %j', (event) => {
    expect(() => checkStageEvent(event as LinkageStageEvent)).not.toThrow();
  });

  test.each([
    [
      { stage: 'decide', part: 0, plan },
      'linkage stage must be one of frequencies, index, pairs, partition, parts, offsets, merge, reduce, got "decide"',
    ],
    [{ stage: 'merge', part: 1, plan }, 'linkage merge part must be in 0..0, got 1'],
    [{ stage: 'parts', part: 3, plan }, 'linkage parts part must be in 0..2, got 3'],
    [{ stage: 'pairs', part: 2, plan }, 'linkage pairs part must be in 0..1, got 2'],
    [{ stage: 'index', part: -1, plan }, 'linkage index part must be in 0..2, got -1'],
    [{ stage: 'index', part: '1', plan }, 'linkage index part must be in 0..2, got "1"'],
    [{ stage: 'index', part: 0, plan: { ...plan, prefix: 'other/' } }, 'linkage plan prefix must start with runs/, got "other/"'],
    [{ stage: 'index', part: 0 }, 'linkage plan prefix must start with runs/, got undefined'],
  ])('refuses %j', (event, message) => {
    expect(() => checkStageEvent(event as unknown as LinkageStageEvent)).toThrow(message);
  });
});

describe('score-shard event', () => {
  test.each([[{ stage: 'profiles', part: 0, plan }], [{ stage: 'decide', part: 2, plan }]])('accepts %j', (event) => {
    expect(() => checkScoreShardEvent(event as ScoreShardEvent)).not.toThrow();
  });

  test.each([
    [{ stage: 'merge', part: 0, plan }, 'score-shard stage must be one of profiles, decide, got "merge"'],
    [{ stage: 'decide', part: 3, plan }, 'score-shard decide part must be in 0..2, got 3'],
    [{ stage: 'profiles', part: 0, plan: { ...plan, prefix: 'other/' } }, 'score-shard plan must have a prefix under runs/ and bounds, got "other/"'],
    [{ stage: 'profiles', part: 0, plan: { ...plan, bounds: undefined } }, 'score-shard plan must have a prefix under runs/ and bounds, got "runs/'],
  ])('refuses %j', (event, message) => {
    expect(() => checkScoreShardEvent(event as unknown as ScoreShardEvent)).toThrow(message);
  });
});
