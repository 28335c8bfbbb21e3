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
