/**
 * The review API's client, shared by the CLI and the console (through the Operator): POSTs JSON to the function URL
 * signed with SigV4 (service `lambda`) with the operator's own credentials, the default chain in AWS. The API takes
 * the reviewer from the verified signature, so the body never names one.
 */
import { createHash, createHmac } from 'crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Checksum, SourceData } from '@smithy/types';
import { OperatorError } from './store';

/** SHA-256 (and HMAC-SHA-256 when given a secret) for the signer, from Node's crypto. */
export class NodeSha256 implements Checksum {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(secret));
  }
  update(data: SourceData): void {
    this.h.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    throw new Error('NodeSha256 cannot be reset');
  }
}

function toBuffer(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8');
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength);
  return Buffer.from(d as ArrayBuffer);
}

export type Credentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export class ReviewApiClient {
  private readonly signer: SignatureV4;

  constructor(
    readonly url: string,
    region: string,
    credentials: Credentials,
  ) {
    this.signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: NodeSha256 });
  }

  /** POST `body` to `route` (`decide`, `heartbeat`); the API's `{error}` becomes an OperatorError. */
  async call<T>(route: string, body: Record<string, unknown>): Promise<T> {
    const u = new URL(route, this.url.endsWith('/') ? this.url : `${this.url}/`);
    const text = JSON.stringify(body);
    const signed = await this.signer.sign({
      method: 'POST',
      protocol: u.protocol,
      hostname: u.hostname,
      port: u.port ? Number(u.port) : undefined,
      path: u.pathname,
      query: {},
      headers: { host: u.host, 'content-type': 'application/json' },
      body: text,
    });
    const res = await fetch(u, { method: 'POST', headers: signed.headers as Record<string, string>, body: text });
    const raw = await res.text();
    let out: Record<string, unknown> = {};
    try {
      out = JSON.parse(raw);
    } catch {
      /* below */
    }
    if (res.status === 403 && !out.error) throw new OperatorError(`the review api refused the signed request (403): ${raw.slice(0, 300)}`);
    if (!res.ok) throw new OperatorError(typeof out.error === 'string' ? out.error : `the review api answered ${res.status}: ${raw.slice(0, 300)}`);
    return out as T;
  }
}
