/**
 * The shape every function an operator invokes shares (reinstate, restrict): an operator error (bad input, wrong
 * status, changed meanwhile) is an answer, `{ok: false, error}`, not a function failure; metrics are flushed and
 * the log keys reset whatever happens.
 */
import { logger, metrics } from '../shared/powertools';
import { OperatorError } from './store';

export async function answerOperator<T>(run: () => Promise<T>): Promise<T | { ok: false; error: string }> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OperatorError) return { ok: false, error: err.message };
    throw err;
  } finally {
    metrics.publishStoredMetrics();
    logger.resetKeys();
  }
}
