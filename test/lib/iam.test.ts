/**
 * IAM least privilege across the composed stack: a `*` resource only for actions AWS authorises on `*` alone
 * (each listed with its reason in lib/nag-acknowledgements.ts STAR_RESOURCE_ACTIONS), no `*` actions, no
 * service-wide wildcards (`s3:*`, `dynamodb:*`).
 */
import { STAR_RESOURCE_ACTIONS } from '../../lib/nag-acknowledgements';
import { iamStatements, synthStack } from './support';

const variants: Array<[string, Record<string, unknown> | undefined]> = [
  ['default', undefined],
  [
    'existing stage + producers',
    { demoApi: false, existingRestApiId: 'a1b2c3d4e5', existingStageName: 'prod', usageProducerAccountIds: ['111122223333'] },
  ],
  ['firehose ingestion path', { ingestPath: 'firehose' }],
];

describe.each(variants)('%s', (_name, context) => {
  const statements = iamStatements(synthStack({ context }).template).filter(({ statement }) => statement.Effect === 'Allow');

  test('a "*" resource only with actions that support nothing narrower', () => {
    const offending: string[] = [];
    for (const { owner, statement } of statements) {
      const resources = [].concat(statement.Resource ?? []);
      if (!resources.includes('*' as never)) continue;
      for (const action of [].concat(statement.Action ?? []) as string[]) {
        if (!(action in STAR_RESOURCE_ACTIONS)) offending.push(`${owner}: ${action} on *`);
      }
    }
    expect(offending).toEqual([]);
  });

  test('no "*" or service-wide wildcard actions', () => {
    const offending: string[] = [];
    for (const { owner, statement } of statements) {
      for (const action of [].concat(statement.Action ?? []) as string[]) {
        if (action === '*' || /^[a-z0-9-]+:\*$/.test(action)) offending.push(`${owner}: ${action}`);
      }
    }
    expect(offending).toEqual([]);
  });

  test('no NotAction / NotResource allow statements', () => {
    expect(statements.filter(({ statement }) => statement.NotAction || statement.NotResource)).toEqual([]);
  });
});
