import { parseSchedule, SimClock } from '../../../local/runtime/schedule';

const T = Date.UTC(2026, 10, 2, 0, 0, 0); // Monday

describe('schedule expressions', () => {
  it('rate() fires every period from the anchor', () => {
    const s = parseSchedule('rate(5 minutes)', T);
    expect(s.next(T)).toBe(T + 300_000);
    expect(s.next(T + 299_999)).toBe(T + 300_000);
    expect(s.next(T + 300_000)).toBe(T + 600_000);
    expect(parseSchedule('rate(1 hour)', T).next(T + 1)).toBe(T + 3_600_000);
  });

  it('cron() in the EventBridge six-field dialect', () => {
    expect(parseSchedule('cron(0/15 * * * ? *)').next(T + 1)).toBe(T + 15 * 60_000);
    expect(parseSchedule('cron(30 2 * * ? *)').next(T)).toBe(T + 2.5 * 3_600_000);
    // 2 = MON in EventBridge (1 = SUN); T is a Monday, next Monday 08:00 after T+9h is a week later
    expect(parseSchedule('cron(0 8 ? * MON *)').next(T + 9 * 3_600_000)).toBe(T + 7 * 86_400_000 + 8 * 3_600_000);
    expect(parseSchedule('cron(0 8 ? * 2 *)').next(T)).toBe(T + 8 * 3_600_000);
  });

  it('at() fires once', () => {
    const s = parseSchedule('at(2026-11-02T01:00:00)');
    expect(s.next(T)).toBe(T + 3_600_000);
    expect(s.next(T + 3_600_000)).toBeUndefined();
  });

  it('rejects what it cannot evaluate', () => {
    expect(() => parseSchedule('rate(0 minutes)')).toThrow();
    expect(() => parseSchedule('cron(0 8 L * ? *)')).toThrow(/L, W or #/);
    expect(() => parseSchedule('every day')).toThrow(/unsupported schedule expression/);
  });
});

describe('SimClock', () => {
  it('fires due ticks in order, awaited, and advances now', async () => {
    const clock = new SimClock(T);
    const fired: string[] = [];
    clock.add({
      id: 'a',
      spec: parseSchedule('rate(5 minutes)', T),
      fire: async (t) => {
        await new Promise((r) => setTimeout(r, 5));
        fired.push(`a@${(t - T) / 60_000}`);
      },
    });
    clock.add({
      id: 'b',
      spec: parseSchedule('rate(10 minutes)', T),
      fire: async (t) => {
        fired.push(`b@${(t - T) / 60_000}`);
      },
    });
    await clock.advanceTo(T + 12 * 60_000);
    expect(fired).toEqual(['a@5', 'b@10', 'a@10']);
    expect(clock.now()).toBe(T + 12 * 60_000);
    expect(clock.nextTick()).toBe(T + 15 * 60_000);
  });
});
