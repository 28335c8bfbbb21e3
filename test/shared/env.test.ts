import { envNumber, requireEnv } from '../../lambdas/shared/env';

const NAME = 'DG_ENV_TEST_SETTING';

afterEach(() => {
  delete process.env[NAME];
});

describe('requireEnv', () => {
  test('returns the value of a set variable', () => {
    process.env[NAME] = 'table-1';
    expect(requireEnv(NAME)).toBe('table-1');
  });

  test('throws with the name and the value received when unset or empty', () => {
    expect(() => requireEnv(NAME)).toThrow(`environment variable ${NAME} is not set (got undefined)`);
    process.env[NAME] = '';
    expect(() => requireEnv(NAME)).toThrow(`environment variable ${NAME} is not set (got "")`);
  });
});

describe('envNumber', () => {
  test('the fallback when absent, the parsed value when set', () => {
    expect(envNumber(NAME, 1, 720, 72)).toBe(72);
    process.env[NAME] = '24';
    expect(envNumber(NAME, 1, 720, 72)).toBe(24);
    process.env[NAME] = '720';
    expect(envNumber(NAME, 1, 720, 72)).toBe(720);
  });

  test('out of range, non-numeric or empty: throws with the value received', () => {
    process.env[NAME] = '9000';
    expect(() => envNumber(NAME, 1, 720, 72)).toThrow(`${NAME} must be a number in 1..720, got "9000"`);
    process.env[NAME] = 'many';
    expect(() => envNumber(NAME, 1, 720, 72)).toThrow(`${NAME} must be a number in 1..720, got "many"`);
    process.env[NAME] = '';
    expect(() => envNumber(NAME, 1, 720, 72)).toThrow(`${NAME} must be a number in 1..720, got ""`);
  });

  test('an open upper bound; an empty value is 0, as Number() reads it', () => {
    process.env[NAME] = '-1';
    expect(() => envNumber(NAME, 0, Infinity, 360)).toThrow(`${NAME} must be a number >= 0, got "-1"`);
    process.env[NAME] = '';
    expect(envNumber(NAME, 0, Infinity, 360)).toBe(0);
  });

  test('absent with no fallback: throws', () => {
    expect(() => envNumber(NAME, 0, 10)).toThrow(`${NAME} must be a number in 0..10, got undefined`);
  });
});
