/**
 * Layout of the linkage bucket (a distributed detection run's records, lib/detect/sharded-linkage.ts): read by the
 * construct (lifecycle rule, IAM grants scoped to the prefixes) and by the handlers that write and read the records.
 */

/** Every run's objects live under `runs/<execution name>/` (expired after a day). */
export const LINKAGE_RUN_PREFIX = 'runs/';

/** What outlives a run (never expired): the population the next run plans from. */
export const LINKAGE_STATE_PREFIX = 'state/';

/** The last run's population and a sample of its account ids (`PopulationState`). */
export const POPULATION_STATE_KEY = `${LINKAGE_STATE_PREFIX}population.json`;
