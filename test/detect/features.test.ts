import { emptyWindow, type AccountWindow } from '../../src/aggregate/window';
import { computeFeatures, dispersionIndex, entropyBits, median } from '../../src/detect/features';
import { emptyProfile, profilesFromWindows, updateWindow, closeWindow } from '../../src/detect/profile';
import { HOUR, T0, windowsOf, type Req } from './fixtures';

const BUCKET = 600_000;

function profileOf(reqs: Req[]) {
  return profilesFromWindows(windowsOf(reqs), BUCKET).get(reqs[0].accountId)!;
}

function req(ts: number, extra: Partial<Req> = {}): Req {
  return { accountId: 'a', ts, ip: '1.2.3.4', ua: 'ua', model: 'm1', ...extra };
}

describe('per-account features', () => {
  test('volume, output size, error and 429 rates', () => {
    const reqs = [
      req(T0, { bytes: 1000 }),
      req(T0 + 1000, { bytes: 3000, status: 429 }),
      req(T0 + 2000, { status: 500, bytes: 2000 }),
      req(T0 + 3000, { bytes: 2000 }),
    ];
    const f = computeFeatures(profileOf(reqs), {}, T0 + HOUR);
    expect(f.requests).toBe(4);
    expect(f.avgResponseBytes).toBe(2000);
    expect(f.rate429).toBe(0.25);
    expect(f.errorRate).toBe(0.5);
  });

  test('inter-arrival regularity: a metronome has dispersion ~0, bursts have dispersion >> 1', () => {
    const metronome: Req[] = [];
    for (let m = 0; m < 120; m++) metronome.push(req(T0 + m * 60_000 + 5_000));
    const bursty: Req[] = [];
    for (let k = 0; k < 120; k++) bursty.push(req(T0 + 7 * 60_000 + k * 100)); // 120 requests in one minute
    const fm = computeFeatures(profileOf(metronome), {}, T0 + 2 * HOUR);
    const fb = computeFeatures(profileOf(bursty), {}, T0 + 2 * HOUR);
    expect(fm.dispersion).toBeCloseTo(0, 5);
    expect(fb.dispersion!).toBeGreaterThan(10);
    expect(fb.burstRatio!).toBeGreaterThan(30);
    expect(fm.burstRatio!).toBeCloseTo(1, 5);
  });

  test('active hours of day: 24/7 operation vs office hours', () => {
    const allDay: Req[] = [];
    for (let h = 0; h < 48; h++) allDay.push(req(T0 + h * HOUR + 60_000));
    const office: Req[] = [];
    for (let h = 9; h < 17; h++) office.push(req(T0 + h * HOUR + 60_000));
    expect(computeFeatures(profileOf(allDay), {}, T0 + 48 * HOUR).hoursOfDayActive).toBe(24);
    const fo = computeFeatures(profileOf(office), {}, T0 + 48 * HOUR);
    expect(fo.hoursOfDayActive).toBe(8);
    expect(fo.activeHours).toBe(8);
  });

  test('model mix, entropy and time to adopt a model after it first appeared', () => {
    const reqs = [
      req(T0, { model: 'old' }),
      req(T0 + 1000, { model: 'old' }),
      req(T0 + 5 * HOUR, { model: 'new' }),
      req(T0 + 5 * HOUR + 1, { model: 'new' }),
    ];
    const f = computeFeatures(profileOf(reqs), { old: T0 - 100 * HOUR, new: T0 + 2 * HOUR + 5 }, T0 + 6 * HOUR);
    expect(f.models).toEqual({ old: 2, new: 2 });
    expect(f.distinctModels).toBe(2);
    expect(f.modelEntropy).toBeCloseTo(1, 6);
    expect(f.adoptionDelayMs.new).toBe(3 * HOUR);
  });

  test('distinct IPs, subnets, UAs, API keys and account age', () => {
    const reqs = [
      req(T0, { ip: '1.2.3.4', ua: 'x', apiKeyId: 'k1', createdAt: T0 - 48 * HOUR }),
      req(T0 + 1, { ip: '1.2.3.5', ua: 'y', apiKeyId: 'k2', createdAt: T0 - 48 * HOUR }),
      req(T0 + 2, { ip: '9.9.9.9', ua: 'y', apiKeyId: 'k2', createdAt: T0 - 48 * HOUR }),
    ];
    const f = computeFeatures(profileOf(reqs), {}, T0);
    expect(f.distinctIps).toBe(3);
    expect(f.distinctSubnets).toBe(2);
    expect(f.distinctUserAgents).toBe(2);
    expect(f.distinctApiKeys).toBe(2);
    expect(f.accountAgeMs).toBe(48 * HOUR);
  });

  test('usage: prompt-class mix, intent share, template diversity; absent without usage', () => {
    const reqs: Req[] = [];
    for (let i = 0; i < 10; i++)
      reqs.push(
        req(T0 + i * 1000, { promptClass: i < 6 ? 'cot_elicitation' : i < 8 ? 'rewrite' : 'chat', templateId: `t${i % 2}`, outputTokens: 1000 }),
      );
    const f = computeFeatures(profileOf(reqs), {}, T0 + HOUR);
    expect(f.usageEvents).toBe(10);
    // CoT elicitation only: rewrites are ordinary business use.
    expect(f.intentShare).toBeCloseTo(0.6);
    expect(f.promptClassMix.cot_elicitation).toBeCloseTo(0.6);
    expect(f.distinctTemplates).toBe(2);
    expect(f.templateDiversity).toBeCloseTo(0.2);
    expect(f.avgOutputTokens).toBe(1000);
    const g = computeFeatures(profileOf([req(T0)]), {}, T0);
    expect(g.intentShare).toBeNull();
    expect(g.templateDiversity).toBeNull();
  });

  test('helpers', () => {
    expect(entropyBits({ a: 1, b: 1, c: 1, d: 1 })).toBeCloseTo(2);
    expect(entropyBits({})).toBe(0);
    expect(dispersionIndex(0, 0, 0)).toBeNull();
    expect(median([3, 1, 2])).toBe(2);
    expect(median([])).toBeNull();
  });
});

describe('profiles', () => {
  test('applying a growing window repeatedly (replay) equals applying the final window once (scorer)', () => {
    const reqs: Req[] = [];
    for (let i = 0; i < 50; i++)
      reqs.push(req(T0 + i * 50_000, { model: i % 3 ? 'm1' : 'm2', ip: `1.2.3.${i % 7}`, promptClass: 'chat', templateId: `t${i % 4}` }));
    const once = profilesFromWindows(windowsOf(reqs), BUCKET).get('a')!;
    const grown = emptyProfile('a');
    let applied;
    let last: AccountWindow = emptyWindow('a', T0);
    for (let k = 10; k <= 50; k += 10) {
      const ws = windowsOf(reqs.slice(0, k));
      for (const w of ws) {
        if (w.windowStart !== T0) continue;
        applied = updateWindow(grown, w, BUCKET, applied);
        last = w;
      }
    }
    // The second hour (requests after T0 + 1h) arrives in its own window.
    for (const w of windowsOf(reqs)) if (w.windowStart !== T0) updateWindow(grown, w, BUCKET);
    closeWindow(grown, last);
    for (const w of windowsOf(reqs)) if (w.windowStart !== T0) closeWindow(grown, w);
    const strip = (p: typeof once) => ({ ...p, version: 0 });
    expect(strip(grown)).toEqual(strip(once));
  });
});

describe('data-keyed records', () => {
  test('a model or prompt class named constructor or __proto__ is counted like any other (first use recorded, sums stay numbers)', () => {
    const reqs = [
      req(T0, { model: 'constructor', promptClass: 'chat' }),
      req(T0 + 1000, { model: 'constructor' }),
      req(T0 + HOUR, { model: '__proto__' }),
      req(T0 + HOUR + 1000, { model: 'toString' }),
    ];
    const p = profileOf(reqs);
    expect(p.models['constructor']).toBe(2);
    expect(p.models['__proto__']).toBe(1);
    expect(p.models['toString']).toBe(1);
    expect(p.modelFirstUse['constructor']).toBe(T0);
    expect(p.modelFirstUse['__proto__']).toBe(T0 + HOUR);
    expect(p.hours.get(T0)!.models['constructor']).toBe(2);
    const first = Object.assign(Object.create(null), { constructor: T0, __proto__: T0 + HOUR, toString: T0 + HOUR });
    const f = computeFeatures(p, first, T0 + 2 * HOUR);
    expect(f.distinctModels).toBe(3);
    expect(f.adoptionDelayMs['constructor']).toBe(0);
    expect(typeof f.modelEntropy).toBe('number');
    expect(Number.isFinite(f.modelEntropy)).toBe(true);
  });
});
