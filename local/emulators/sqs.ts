/**
 * SQS emulator: fauxqs 1.9 (in-memory SQS/SNS/S3 speaking the AWS wire protocols), on a free loopback port.
 *
 * fauxqs is ESM-only. Under plain Node / tsx (npm start) it is loaded in-process with a native dynamic import.
 * Where the host cannot import ESM in-process (jest without --experimental-vm-modules raises
 * ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING_FLAG) it runs in a child Node process (./fauxqs-launcher.mjs) instead; the
 * wire protocol and the returned API are the same, only `server` (the in-process FauxqsServer) is absent.
 *
 * Queue URLs are http://127.0.0.1:<port>/000000000000/<name> (see ./fauxqs-launcher.mjs for why), so SQS clients
 * configured either with `endpoint` or only with AWS_ENDPOINT_URL_SQS reach the emulator. fauxqs listens on
 * 0.0.0.0 (it has no bind-address option); the URLs handed out are loopback.
 */
import { spawn } from 'child_process';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { RunningEmulator } from './dynamodb-local';

/** The subset of fauxqs's FauxqsServer used here (see node_modules/fauxqs/dist/app.d.ts). */
export interface FauxqsServerLike {
  readonly port: number;
  stop(): Promise<void>;
  createQueue(
    name: string,
    options?: { region?: string; attributes?: Record<string, string> },
  ): { queueUrl: string; queueArn: string; queueName: string };
  inspectQueue(name: string): { messages: { ready: unknown[]; delayed: unknown[]; inflight: unknown[] } } | undefined;
}

export interface SqsEmulator extends RunningEmulator {
  /** How fauxqs runs: in this process, or in a child process. */
  readonly mode: 'in-process' | 'child-process';
  /** The in-process fauxqs server (queue inspection, spies); undefined in child-process mode. */
  readonly server?: FauxqsServerLike;
}

export interface SqsEmulatorOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default 'auto' (in-process when the host can import ESM, else a child process) */
  readonly mode?: 'auto' | 'in-process' | 'child-process';
  /** Region used in queue ARNs/URLs when the request does not say. @default process.env.AWS_REGION ?? 'us-east-1' */
  readonly region?: string;
  /** How long the child may take to report its port (a loaded CI machine starts node slowly). @default 60000 */
  readonly startTimeoutMs?: number;
}

const LAUNCHER = path.join(__dirname, 'fauxqs-launcher.mjs');
const START_TIMEOUT_MS = 60_000;

// A real dynamic import that TypeScript's CommonJS output does not rewrite to require().
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<Record<string, unknown>>;

async function startInProcess(opts: SqsEmulatorOptions): Promise<SqsEmulator> {
  const mod = await nativeImport(pathToFileURL(LAUNCHER).href);
  const startLocalFauxqs = mod.startLocalFauxqs as (o: Record<string, unknown>) => Promise<FauxqsServerLike>;
  const server = await startLocalFauxqs({ port: opts.port ?? 0, region: opts.region ?? process.env.AWS_REGION ?? 'us-east-1' });
  return { endpoint: `http://127.0.0.1:${server.port}`, port: server.port, mode: 'in-process', server, stop: () => server.stop() };
}

function startChild(opts: SqsEmulatorOptions): Promise<SqsEmulator> {
  const child = spawn(process.execPath, [LAUNCHER], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: {
      ...process.env,
      FAUXQS_CHILD_PORT: String(opts.port ?? 0),
      FAUXQS_CHILD_REGION: opts.region ?? process.env.AWS_REGION ?? 'us-east-1',
      NODE_OPTIONS: '',
    },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  return new Promise<SqsEmulator>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`fauxqs child did not report its port within ${opts.startTimeoutMs ?? START_TIMEOUT_MS} ms: ${stderr}`));
    }, opts.startTimeoutMs ?? START_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`fauxqs child exited early with code ${code}: ${stderr}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      const { port } = JSON.parse(out.slice(0, nl)) as { port: number };
      resolve({
        endpoint: `http://127.0.0.1:${port}`,
        port,
        mode: 'child-process',
        stop: () =>
          new Promise<void>((res) => {
            if (child.exitCode !== null || child.signalCode !== null) return res();
            child.once('exit', () => res());
            child.stdin!.end();
            child.kill('SIGTERM');
            setTimeout(() => child.kill('SIGKILL'), 3000).unref();
          }),
      });
    });
  });
}

/** Start fauxqs on 127.0.0.1. */
export async function startSqs(opts: SqsEmulatorOptions = {}): Promise<SqsEmulator> {
  const mode = opts.mode ?? 'auto';
  if (mode === 'child-process') return startChild(opts);
  try {
    return await startInProcess(opts);
  } catch (err) {
    const code = (err as { code?: string }).code ?? '';
    if (
      mode === 'auto' &&
      (code.startsWith('ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING') || /dynamic import callback/i.test(String((err as Error).message)))
    ) {
      return startChild(opts);
    }
    throw err;
  }
}
