/**
 * Samples of undecodable records (what the aggregator parks on its failure queue for an operator to look at),
 * without source IPs: the record is decoded as far as it goes (base64, then gzip, partially if truncated), and every
 * IP address in the text is replaced by its keyed hash (ip.ts, the same pseudonym the features use), so a sample
 * still shows which records share an address but never the address. Address fragments (a truncated record can end
 * in the middle of one) are masked. Bytes that are not text are not sampled at all.
 *
 * Hand-written: a few regular expressions plus node:net validation.
 */
import { constants, gunzipSync } from 'node:zlib';
import { isIPv4, isIPv6 } from 'node:net';
import { fromBase64 } from './decode';
import { ipInfo } from './ip';

/** Compressed bytes inflated for a sample (deflate inflates at most ~1032x, so at most ~4 MiB of text). */
const SAMPLE_GZIP_INPUT = 4096;

const IPV6_LIKE = /(?:[0-9A-Fa-f]{0,4}:){2,7}(?:(?:\d{1,3}\.){3}\d{1,3}|[0-9A-Fa-f]{0,4})/g;
const IPV4 = /(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])/g;
/** Two or three dotted octets left over (a cut-off address): `203.0.113` or `203.0.`. */
const IPV4_FRAGMENT = /(?<![\d.])\d{1,3}\.\d{1,3}\.(?:\d{1,3}\.?)?(?![\d])/g;

function hashOf(ip: string): string {
  return `[ip:${ipInfo(ip).ipHash ?? 'unknown'}]`;
}

/** Replace every IPv4/IPv6 address in `text` by `[ip:<keyed hash>]`, and mask address fragments. */
export function redactIps(text: string): string {
  let out = text.replace(IPV6_LIKE, (m) => {
    if (isIPv6(m)) return hashOf(m);
    // A partial IPv6 address (hex letters or `::`), not a clock time like 00:00:09.
    return /[a-fA-F]|::/.test(m) ? '[ip?]' : m;
  });
  out = out.replace(IPV4, (m) => (isIPv4(m) ? hashOf(m) : '[ip?]'));
  out = out.replace(IPV4_FRAGMENT, '[ip?]');
  return out;
}

/** Mostly printable: at most 5% replacement or control characters (other than tab, CR, LF). */
function looksLikeText(s: string): boolean {
  if (s.length === 0) return true;
  let bad = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0xfffd || (c < 32 && c !== 9 && c !== 10 && c !== 13) || (c >= 0x7f && c < 0xa0)) bad++;
  }
  return bad / s.length <= 0.05;
}

export interface RecordSample {
  /** The record's text (decoded as far as possible), IPs replaced by their hashes, at most `maxChars` characters. */
  dataSample: string;
  /** How the sample was obtained: `text` (the data as given), `base64` (decoded), `gzip` (inflated), or `omitted` (not text). */
  dataSampleEncoding: 'text' | 'base64' | 'gzip' | 'omitted';
  /** The first 4 bytes in hex (a file signature, e.g. `1f8b0800` for gzip), when the data decoded from base64. */
  dataHead?: string;
}

/** A redacted sample of a Kinesis record's data (base64 as in the Lambda event). */
export function redactedRecordSample(data: string | undefined, maxChars: number): RecordSample {
  const raw = data ?? '';
  // Decode only the head: a whole number of base64 quads covering SAMPLE_GZIP_INPUT bytes.
  const bytes = fromBase64(raw.slice(0, 4 * Math.ceil(SAMPLE_GZIP_INPUT / 3)));
  if (!bytes) {
    // Not base64 at all: the data as given (only reaches the handler in tests and from broken producers).
    return looksLikeText(raw)
      ? { dataSample: redactIps(raw.slice(0, maxChars * 2)).slice(0, maxChars), dataSampleEncoding: 'text' }
      : { dataSample: '', dataSampleEncoding: 'omitted' };
  }
  const dataHead = bytes.subarray(0, 4).toString('hex');
  let text: string;
  let encoding: RecordSample['dataSampleEncoding'] = 'base64';
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      // Z_SYNC_FLUSH: a truncated stream yields what it has instead of an error.
      text = gunzipSync(bytes, { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: 8 * 1024 * 1024 }).toString('utf8');
      encoding = 'gzip';
    } catch {
      return { dataSample: '', dataSampleEncoding: 'omitted', dataHead };
    }
  } else {
    text = bytes.toString('utf8');
  }
  if (!looksLikeText(text.slice(0, maxChars))) return { dataSample: '', dataSampleEncoding: 'omitted', dataHead };
  return { dataSample: redactIps(text.slice(0, maxChars * 2)).slice(0, maxChars), dataSampleEncoding: encoding, dataHead };
}
