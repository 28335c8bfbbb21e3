// Starts fauxqs (ESM-only) for local/emulators/sqs.ts, either imported in-process (startLocalFauxqs) or run as a
// child process (`node fauxqs-launcher.mjs`: prints one JSON line {"port":N} once listening; exits when stdin
// closes, i.e. the parent died or called stop(), or on SIGTERM).
//
// Queue URLs: fauxqs builds them as http://sqs.<region>.localhost:<port>/000000000000/<name>. The SDK's SQS client
// sends requests to the QueueUrl's host (useQueueUrlAsEndpoint) whenever the client was configured through
// AWS_ENDPOINT_URL_SQS rather than an explicit `endpoint`, and `*.localhost` subdomains do not resolve on glibc.
// So queue URLs are made http://127.0.0.1:<port>/000000000000/<name> (the same shape as ElasticMQ / LocalStack's
// path-style URLs) by overriding SqsStore.prototype.buildQueueUrl (queues are looked up by exact URL, and every URL
// comes from this one function).
import { fileURLToPath } from 'node:url';
import { startFauxqs } from 'fauxqs';

const sqsStoreUrl = new URL('./sqs/sqsStore.js', import.meta.resolve('fauxqs'));
const { SqsStore } = await import(sqsStoreUrl.href);
// `port` is the server's own port (from the request's Host header, or the listening port for programmatic
// createQueue), so several fauxqs servers in one process each keep their own URLs.
SqsStore.prototype.buildQueueUrl = function buildQueueUrl(queueName, port, requestHost) {
  return `http://${port ? `127.0.0.1:${port}` : requestHost}/000000000000/${queueName}`;
};

export async function startLocalFauxqs({ port = 0, region } = {}) {
  return startFauxqs({ port, logger: false, defaultRegion: region });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const server = await startLocalFauxqs({ port: Number(process.env.FAUXQS_CHILD_PORT ?? 0), region: process.env.FAUXQS_CHILD_REGION || undefined });
  process.stdout.write(JSON.stringify({ port: server.port }) + '\n');
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    try {
      await server.stop();
    } finally {
      process.exit(0);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop);
  process.stdin.on('close', stop);
  process.stdin.resume();
}
