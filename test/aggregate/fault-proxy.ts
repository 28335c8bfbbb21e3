/**
 * A fault-injecting HTTP proxy in front of DynamoDB Local. Each handler invocation talks to it through its own
 * "epoch" path prefix (`http://127.0.0.1:PORT/e<N>`), so faults are planned per invocation and requests of an
 * invocation that has been "killed" are dropped even if its abandoned promises retry later.
 *
 * Faults (by the index of the write request within the epoch):
 * - `crashAfter: k`  - forward the first k writes, then the invocation dies: every later request is dropped
 *                      and `onCrash` fires (the harness treats the invocation as a function error / timeout);
 * - `lostResponse`   - forward the write (it lands) but cut the connection before the response: the client
 *                      sees a network error and retries a write that already happened;
 * - `throttle`       - answer ProvisionedThroughputExceededException without forwarding.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface EpochPlan {
  crashAfter?: number;
  lostResponse?: Set<number>;
  throttle?: Set<number>;
}

export interface FaultProxy {
  port: number;
  /** Start an epoch with a plan; returns its endpoint and a promise that rejects when the invocation "dies". */
  epoch(plan: EpochPlan): { endpoint: string; crashed: Promise<never>; id: number };
  /** Requests by epoch that were writes (UpdateItem/PutItem) and were forwarded. */
  forwardedWrites: number;
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const t = new URL(target);
  const epochs = new Map<number, { plan: EpochPlan; writes: number; dead: boolean; kill: (e: Error) => void }>();
  let next = 0;
  const proxy: FaultProxy = {
    port: 0,
    forwardedWrites: 0,
    epoch(plan) {
      const id = ++next;
      let kill!: (e: Error) => void;
      const crashed = new Promise<never>((_, rej) => (kill = rej));
      crashed.catch(() => undefined);
      epochs.set(id, { plan, writes: 0, dead: false, kill });
      return { endpoint: `http://127.0.0.1:${proxy.port}/e${id}`, crashed, id };
    },
    stop: () =>
      new Promise<void>((res) => {
        server.close(() => res());
        server.closeAllConnections();
      }),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const m = /^\/e(\d+)/.exec(req.url ?? '');
      const ep = m ? epochs.get(Number(m[1])) : undefined;
      const target = (req.headers['x-amz-target'] as string | undefined) ?? '';
      const isWrite = /UpdateItem|PutItem/.test(target);
      if (ep?.dead) {
        req.socket.destroy();
        return;
      }
      let index = -1;
      if (ep && isWrite) {
        index = ep.writes++;
        if (ep.plan.crashAfter !== undefined && index >= ep.plan.crashAfter) {
          ep.dead = true;
          ep.kill(new Error(`injected crash after ${ep.plan.crashAfter} writes`));
          req.socket.destroy();
          return;
        }
        if (ep.plan.throttle?.has(index)) {
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(
            JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', message: 'injected throttle' }),
          );
          return;
        }
      }
      const body = Buffer.concat(chunks);
      const headers = { ...req.headers, host: t.host };
      const up = http.request({ host: t.hostname, port: t.port, method: req.method, path: '/', headers }, (upRes) => {
        const out: Buffer[] = [];
        upRes.on('data', (c: Buffer) => out.push(c));
        upRes.on('end', () => {
          if (isWrite) proxy.forwardedWrites++;
          if (ep && isWrite && ep.plan.lostResponse?.has(index)) {
            req.socket.destroy();
            return;
          }
          res.writeHead(upRes.statusCode ?? 500, upRes.headers);
          res.end(Buffer.concat(out));
        });
      });
      up.on('error', () => req.socket.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', () => res()));
  proxy.port = (server.address() as AddressInfo).port;
  return proxy;
}
