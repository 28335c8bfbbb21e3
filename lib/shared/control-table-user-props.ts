/**
 * The prop every construct that works on the control table takes. One declaration, so what a control table of your
 * own must provide is written once.
 */
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';

/** Props of a construct that reads or writes the control table. */
export interface ControlTableUserProps {
  /**
   * The control table (lib/state/control-table.ts): cases, audit trail, account status, allowlist, breaker, and the
   * transactional outbox (`OUTBOX#<eventId>` / `EVENT`). A table of your own must have the key layout and the
   * `byState` GSI of docs/DESIGN.md ("Tables"); BanEvents also reads its stream (NEW_IMAGE or NEW_AND_OLD_IMAGES).
   */
  readonly controlTable: dynamodb.ITable;
}
