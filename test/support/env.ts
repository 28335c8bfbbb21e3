/**
 * The environment a handler module under test reads: the local credentials and region its own SDK clients use,
 * the metrics namespace Powertools needs, and `own` (the emulator endpoints and the handler's settings).
 */
import { LOCAL_CREDENTIALS } from '../../local/services/clients';

export function localHandlerEnv(own: Record<string, string>): Record<string, string> {
  return {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    POWERTOOLS_METRICS_NAMESPACE: 'DistillGuardTest',
    ...own,
  };
}

/** Keep a handler's own logging out of the test output (the file's `jest.restoreAllMocks()` puts it back). */
export function quietConsole(...methods: Array<'log' | 'info' | 'warn'>): void {
  for (const m of methods) jest.spyOn(console, m).mockImplementation(() => undefined);
}
