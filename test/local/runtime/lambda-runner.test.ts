import * as path from 'path';
import { LambdaRunner } from '../../../local/runtime/lambda-runner';
import { FunctionModel } from '../../../local/runtime/template';

const dir = path.join(__dirname, 'fixtures', 'slow');
const fn = (name: string, marker: string, handler = 'index.handler', timeoutSeconds = 1): FunctionModel => ({
  logicalId: name,
  name,
  arn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
  handler,
  codeDir: dir,
  environment: { MARKER: marker },
  timeoutSeconds,
  memoryMb: 128,
});

describe('LambdaRunner', () => {
  const runner = new LambdaRunner([fn('A', 'alpha'), fn('B', 'beta'), fn('C', 'gamma', 'index.callback')], {
    baseEnv: { MARKER: 'base', AWS_REGION: 'us-east-1' },
    onLog: () => undefined,
    maxConcurrencyPerFunction: 1,
  });
  afterAll(() => runner.stop());

  it('gives each function its own environment and keeps module state between warm invocations', async () => {
    const [a, b] = await Promise.all([runner.invoke('A', {}), runner.invoke('arn:aws:lambda:us-east-1:000000000000:function:B', {})]);
    expect(a).toMatchObject({ ok: true, payload: { marker: 'alpha', calls: 1, remaining: true, name: 'A' }, coldStart: true });
    expect(b.payload).toMatchObject({ marker: 'beta', calls: 1 });
    const a2 = await runner.invoke('A', {});
    expect(a2).toMatchObject({ ok: true, payload: { calls: 2 }, coldStart: false });
    expect(process.env.MARKER).toBeUndefined();
  });

  it('supports callback-style handlers', async () => {
    expect((await runner.invoke('C', {})).payload).toEqual({ via: 'callback', marker: 'gamma' });
  });

  it('reports handler errors in the Lambda error shape', async () => {
    const r = await runner.invoke('A', { fail: true });
    expect(r.ok).toBe(false);
    expect(r.payload).toMatchObject({ errorType: 'FixtureError', errorMessage: 'asked to fail' });
    await expect(runner.invokeOrThrow('A', { fail: true })).rejects.toMatchObject({ name: 'FixtureError' });
  });

  it('times out, discards the sandbox and starts a cold one next time', async () => {
    const r = await runner.invoke('B', { sleepMs: 3000 });
    expect(r).toMatchObject({ ok: false, timedOut: true });
    expect((r.payload as { errorMessage: string }).errorMessage).toMatch(/Task timed out after 1.00 seconds/);
    const next = await runner.invoke('B', {});
    expect(next).toMatchObject({ ok: true, coldStart: true, payload: { calls: 1 } });
    expect(runner.stats().B.timeouts).toBe(1);
  });

  it('rejects unknown functions clearly', async () => {
    await expect(runner.invoke('Nope', {})).rejects.toThrow(/no local function for Nope/);
  });
});
