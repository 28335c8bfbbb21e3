import { completeMemberReviews } from '../../ops/cluster-operator';
import { OperatorError } from '../../ops/operator';

// An overloaded review API (throttling, a timed-out call) is an error path the local emulators do not produce on
// demand, so the operator is a stand-in here; the whole path runs on the emulators in cluster-workflow.test.ts.
const targets = Array.from({ length: 40 }, (_, i) => ({ accountId: `a${i}`, caseId: `case-${i}` }));
const output = { approved: true, reason: 'one hydra', clusterCaseId: 'c1.g1' };

describe("answering a cluster's member reviews", () => {
  test('members the api refused for a moment are tried again and reached', async () => {
    const calls = new Map<string, number>();
    const op = {
      decide: async (caseId: string) => {
        const n = (calls.get(caseId) ?? 0) + 1;
        calls.set(caseId, n);
        if (n === 1 && Number(caseId.slice(5)) % 7 === 0) throw new Error('the review api answered 503: overloaded');
        return {} as never;
      },
    };
    const r = await completeMemberReviews(op, targets, output, { rounds: 2, pauseMs: 1 });
    expect(r.notReached).toEqual([]);
    expect(r.done).toHaveLength(40);
    expect(calls.get('case-7')).toBe(2);
    expect(calls.get('case-1')).toBe(1);
  });

  test('a member the api keeps refusing is listed with the reason, after the retry rounds', async () => {
    let calls = 0;
    const op = {
      decide: async (caseId: string) => {
        if (caseId === 'case-3') {
          calls++;
          throw new OperatorError('case case-3 is not waiting for review');
        }
        return {} as never;
      },
    };
    const r = await completeMemberReviews(op, targets, output, { rounds: 2, pauseMs: 1 });
    expect(r.done).toHaveLength(39);
    expect(r.notReached).toEqual([{ accountId: 'a3', caseId: 'case-3', why: expect.stringMatching(/case case-3 is not waiting for review$/) }]);
    expect(calls).toBe(3);
  });
});
