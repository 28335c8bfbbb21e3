/**
 * Outside jest (tsx, as `npm start` runs), fauxqs is imported in-process; its queue URLs are loopback URLs that a
 * client configured only by AWS_ENDPOINT_URL_SQS can use (the SDK sends to the QueueUrl's host).
 */
import { execFileSync } from 'child_process';
import * as path from 'path';

test('startSqs() runs fauxqs in-process under tsx, with loopback queue URLs', () => {
  const root = path.resolve(__dirname, '../../..');
  const out = execFileSync(process.execPath, [path.join(root, 'node_modules/tsx/dist/cli.mjs'), path.join(__dirname, 'fixtures/in-process-sqs.ts')], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60000,
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  const line = out.trim().split('\n').pop()!;
  const res = JSON.parse(line) as { mode: string; queueUrl: string; body: string; hasServer: boolean };
  expect(res.mode).toBe('in-process');
  expect(res.hasServer).toBe(true);
  expect(res.queueUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/000000000000\/in-process$/);
  expect(res.body).toBe('ping');
});
