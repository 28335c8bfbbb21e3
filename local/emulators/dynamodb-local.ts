/**
 * Spawns DynamoDB Local (the jar shipped inside the npm package `amplify-dynamodb-simulator`) in memory on a
 * free loopback port. DynamoDB Local is complete (transactions, TTL API, streams), unlike dynalite.
 */
import { ChildProcess, spawn } from 'child_process';
import * as http from 'http';
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

/** DynamoDB Local could not take its port (another process holds it), or exited before it answered. */
class PortLost extends Error {}

/**
 * Resolves once DynamoDB Local itself answers on `port`: a DynamoDB `ListTables` call gets a DynamoDB answer. A port
 * that merely accepts connections is not enough: between `freePort` closing its probe and the JVM binding, another
 * emulator of a parallel test can take the port, and the JVM then exits while the other server answers.
 */
function waitForDynamoDb(port: number, timeoutMs: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new PortLost(`dynamodb local exited early with code ${child.exitCode ?? child.signalCode}`));
        return;
      }
      // The JVM reports a taken port and stays up: a process that will never serve.
      if (stderr().includes('Failed to bind')) {
        reject(new PortLost(`dynamodb local could not bind port ${port}`));
        return;
      }
      void isDynamoDb(port).then((ok) => {
        if (ok) resolve();
        else if (Date.now() > deadline) reject(new Error(`dynamodb local did not answer on port ${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/** True when a DynamoDB `ListTables` call to 127.0.0.1:`port` gets a DynamoDB answer (`TableNames`). */
function isDynamoDb(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/',
        timeout: 2000,
        headers: {
          'content-type': 'application/x-amz-json-1.0',
          'x-amz-target': 'DynamoDB_20120810.ListTables',
          // DynamoDB Local checks that a signature is present, not what it signs.
          authorization: 'AWS4-HMAC-SHA256 Credential=local/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve(res.statusCode === 200 && body.includes('TableNames')));
      },
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(false));
    req.end('{}');
  });
}

export interface DynamoDbLocalOptions {
  /** @default a free port */
  readonly port?: number;
  /** @default 120000 (the JVM can take tens of seconds on a loaded 2-core machine) */
  readonly startTimeoutMs?: number;
}

/** Starts DynamoDB Local; on a free port, a port another process took first is given up for another (3 tries). */
export async function startDynamoDbLocal(opts: DynamoDbLocalOptions = {}): Promise<RunningEmulator> {
  for (let attempt = 1; ; attempt++) {
    const port = opts.port ?? (await freePort());
    try {
      return await startOn(port, opts.startTimeoutMs ?? 120000);
    } catch (err) {
      if (opts.port !== undefined || attempt === 3 || !(err instanceof PortLost)) throw err;
    }
  }
}

async function startOn(port: number, startTimeoutMs: number): Promise<RunningEmulator> {
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
    await waitForDynamoDb(port, startTimeoutMs, child, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    const message = `${(err as Error).message}${stderr ? `: ${stderr}` : ''}`;
    throw err instanceof PortLost ? new PortLost(message) : new Error(message);
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
