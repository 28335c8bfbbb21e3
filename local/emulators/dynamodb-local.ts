/**
 * Spawns DynamoDB Local (the jar shipped inside the npm package `amplify-dynamodb-simulator`) in memory on a
 * free loopback port. DynamoDB Local is complete (transactions, TTL API, streams), unlike dynalite.
 */
import { ChildProcess, spawn } from 'child_process';
import * as net from 'net';
import * as path from 'path';

export interface RunningEmulator {
  /** http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export function dynamoDbLocalJar(): string {
  const pkg = path.dirname(require.resolve('amplify-dynamodb-simulator/package.json'));
  return path.join(pkg, 'emulator', 'DynamoDBLocal.jar');
}

function waitForPort(port: number, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null) {
        reject(new Error(`dynamodb local exited early with code ${child.exitCode}`));
        return;
      }
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`dynamodb local did not listen on port ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

export interface DynamoDbLocalOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default 120000 (the JVM can take tens of seconds on a loaded 2-core machine) */
  readonly startTimeoutMs?: number;
}

export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<RunningEmulator> {
  const port = opts.port ?? (await freePort());
  const jar = dynamoDbLocalJar();
  const child = spawn(
    'java',
    [
      '-Xms64m',
      '-Xmx1g',
      `-Djava.library.path=${path.join(path.dirname(jar), 'DynamoDBLocal_lib')}`,
      '-jar',
      jar,
      '-inMemory',
      '-port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], cwd: path.dirname(jar) },
  );
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  child.stdout?.resume();
  try {
    await waitForPort(port, opts.startTimeoutMs ?? 120000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${(err as Error).message}${stderr ? `: ${stderr}` : ''}`);
  }
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
