// Runs fauxqs (ESM-only) in a child process for hosts that cannot import ESM in-process (jest without
// --experimental-vm-modules). Prints one JSON line {"port":N} on stdout once listening; exits when stdin closes
// (the parent died or called stop()) or on SIGTERM. Used by local/emulators/sqs.ts.
import { startFauxqs } from 'fauxqs';

const server = await startFauxqs({
  port: Number(process.env.FAUXQS_CHILD_PORT ?? 0),
  logger: false,
  host: process.env.FAUXQS_CHILD_HOST || undefined,
  defaultRegion: process.env.FAUXQS_CHILD_REGION || undefined,
});
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
