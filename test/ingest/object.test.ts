/**
 * src/ingest/object.ts: how a Firehose object is cut into access-log records (newline-delimited, concatenated
 * JSON, or both), independently of how its bytes arrive; streaming gunzip with its failure modes; the S3 event
 * notification parser.
 */
import { gzipSync } from 'node:zlib';
import { RecordSplitter, decodeObject, objectId, parseS3Notification } from '../../src/ingest/object';
import { TrafficGen, rng } from '../../bench/synthetic';

type Out = Array<string | typeof TOO_LARGE>;
const TOO_LARGE = Symbol('too-large');

function split(pieces: string[], max?: number): Out {
  const out: Out = [];
  const s = new RecordSplitter({ record: (t) => out.push(t), tooLarge: () => out.push(TOO_LARGE) }, max);
  for (const p of pieces) s.push(p);
  s.end();
  return out;
}

/** Cut `text` at random places (also inside `}{`, `\r\n` and strings). */
function randomPieces(text: string, r: () => number, maxLen: number): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(r() * maxLen);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

async function decode(
  bytes: Uint8Array,
  opts?: Parameters<typeof decodeObject>[3],
): Promise<{ out: Out; result: Awaited<ReturnType<typeof decodeObject>> }> {
  const out: Out = [];
  const result = await decodeObject(bytes, { record: (t) => out.push(t), tooLarge: () => out.push(TOO_LARGE) }, undefined, opts);
  return { out, result };
}

describe('RecordSplitter', () => {
  const a = '{"requestId":"a","n":1}';
  const b = '{"requestId":"b","ua":"x}{y"}';
  const c = '{"requestId":"c","ua":"q\\"}{\\"z","o":{"k":{}}}';

  test('newline-delimited (LF, CRLF, blank lines, no final newline)', () => {
    expect(split([`${a}\n${b}\r\n\n\n${c}`])).toEqual([a, b, c]);
  });

  test('concatenated JSON without delimiters, as Firehose writes records with no delimiter processor', () => {
    expect(split([`${a}${b}${c}`])).toEqual([a, b, c]);
    expect(split([`${a}${b}\n${c}${a}\n`])).toEqual([a, b, c, a]);
  });

  test('`}{` inside strings (also after escaped quotes) is not a boundary', () => {
    expect(split([b])).toEqual([b]);
    expect(split([c])).toEqual([c]);
  });

  test('a newline always ends a record: a truncated line cannot swallow the next ones', () => {
    expect(split(['{"requestId": "trunc\n', `${a}\n`, '{"x":{"y":1}\n', b])).toEqual(['{"requestId": "trunc', a, '{"x":{"y":1}', b]);
  });

  test('garbage stays one record up to the next boundary or newline', () => {
    expect(split([`<html>502</html>\n${a}\nxyz${a}${b}`])).toEqual(['<html>502</html>', a, `xyz${a}`, b]);
  });

  test('records over the limit are reported, not kept, in both framings', () => {
    const big = `{"requestId":"big","pad":"${'x'.repeat(200)}"}`;
    expect(split([`${a}\n${big}\n${b}`], 100)).toEqual([a, TOO_LARGE, b]);
    expect(split([`${a}${big}${b}`], 100)).toEqual([a, TOO_LARGE, b]);
  });

  test('the same text gives the same records however it is cut into pieces (property, 300 random cuts)', () => {
    const g = new TrafficGen({ seed: 5, accounts: 9 });
    const recs = g.records(40).map((x) => JSON.stringify(x));
    const r = rng(11);
    // a mix of framings: LF, CRLF, no delimiter, blank lines, braces in strings, garbage, an oversized record
    let text = '';
    for (let i = 0; i < recs.length; i++) {
      const sep = ['\n', '\r\n', '', '\n\n', ''][Math.floor(r() * 5)];
      text += recs[i] + sep;
      if (i === 7) text += `${b}${c}\n`;
      if (i === 13) text += 'not json at all\n';
      if (i === 21) text += `{"pad":"${'y'.repeat(2000)}"}`;
    }
    const want = split([text], 1024);
    expect(want.filter((x) => x === TOO_LARGE)).toHaveLength(1);
    expect(want).toContain(b);
    for (let k = 0; k < 300; k++) expect(split(randomPieces(text, r, 1 + Math.floor(r() * 600)), 1024)).toEqual(want);
  });
});

describe('decodeObject', () => {
  const g = new TrafficGen({ seed: 6, accounts: 5 });
  const lines = g.records(500).map((x) => JSON.stringify(x));

  test('gzip, plain text and multi-member gzip give the same records; small pieces change nothing', async () => {
    const text = lines.join('\n') + '\n';
    const plain = await decode(Buffer.from(text));
    expect(plain.out).toEqual(lines);
    expect(plain.result).toMatchObject({ ok: true, gzip: false });
    const gz = await decode(gzipSync(text), { pieceBytes: 777 });
    expect(gz.out).toEqual(lines);
    expect(gz.result).toMatchObject({ ok: true, gzip: true, bytesOut: Buffer.byteLength(text) });
    // Firehose may concatenate gzip members; so may a multipart object
    const half = lines.length / 2;
    const multi = Buffer.concat([gzipSync(lines.slice(0, half).join('')), gzipSync(lines.slice(half).join(''))]);
    expect((await decode(multi)).out).toEqual(lines);
  });

  test('multi-byte UTF-8 split across pieces is decoded intact', async () => {
    const rec = '{"requestId":"u","userAgent":"клиент/1.0 🤖 日本語"}';
    const { out } = await decode(gzipSync(`${rec}\n${rec}`), { pieceBytes: 3 });
    expect(out).toEqual([rec, rec]);
  });

  test('a truncated gzip stream ends with gunzip-failed; the records before the break are the same on every attempt', async () => {
    const gz = gzipSync(lines.join('\n'));
    const cut = gz.subarray(0, Math.floor(gz.length * 0.6));
    const first = await decode(cut, { pieceBytes: 1000 });
    const second = await decode(cut, { pieceBytes: 64 * 1024 });
    expect(first.result).toMatchObject({ ok: false, reason: 'gunzip-failed' });
    expect(second.result).toMatchObject({ ok: false, reason: 'gunzip-failed' });
    expect(first.out.length).toBeGreaterThan(0);
    expect(first.out.slice(0, -1)).toEqual(lines.slice(0, first.out.length - 1));
    // garbage after a valid gzip stream is an error too
    expect((await decode(Buffer.concat([gzipSync('{"a":1}\n'), Buffer.from('garbage')]))).result).toMatchObject({
      ok: false,
      reason: 'gunzip-failed',
    });
  });

  test('a decompression bomb stops at the cap', async () => {
    const bomb = gzipSync(Buffer.alloc(8 * 1024 * 1024, 0x20));
    const { result } = await decode(bomb, { maxDecompressedBytes: 1024 * 1024 });
    expect(result).toMatchObject({ ok: false, reason: 'decompressed-too-large' });
    expect((await decode(new Uint8Array(0))).result).toMatchObject({ ok: false, reason: 'empty-record' });
  });
});

describe('parseS3Notification', () => {
  const event = (key: string, name = 'ObjectCreated:Put') => ({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: '2026-11-28T10:00:05.123Z',
        eventName: name,
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'x',
          bucket: { name: 'logs-bucket', arn: 'arn:aws:s3:::logs-bucket' },
          object: { key, size: 1234, eTag: 'abc', sequencer: '0A1B' },
        },
      },
    ],
  });

  test('an ObjectCreated notification, with the key URL-decoded', () => {
    const n = parseS3Notification(JSON.stringify(event('access-logs/2026/11/28/10/amazon-apigateway-x-1-2026-11-28-10-00-00-ab+cd%3Aef.gz')));
    expect(n).toEqual({
      kind: 'objects',
      objects: [
        {
          bucket: 'logs-bucket',
          key: 'access-logs/2026/11/28/10/amazon-apigateway-x-1-2026-11-28-10-00-00-ab cd:ef.gz',
          size: 1234,
          eTag: 'abc',
          versionId: undefined,
          eventName: 'ObjectCreated:Put',
          eventTime: '2026-11-28T10:00:05.123Z',
        },
      ],
    });
  });

  test('the test event, the EventBridge form, removals and garbage', () => {
    expect(parseS3Notification(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: 'x', Bucket: 'b' }))).toEqual({ kind: 'test' });
    expect(
      parseS3Notification(
        JSON.stringify({ 'detail-type': 'Object Created', time: 't', detail: { bucket: { name: 'b' }, object: { key: 'k', size: 3 } } }),
      ),
    ).toMatchObject({
      kind: 'objects',
      objects: [{ bucket: 'b', key: 'k', size: 3 }],
    });
    expect(parseS3Notification(JSON.stringify(event('k', 'ObjectRemoved:Delete')))).toEqual({ kind: 'objects', objects: [] });
    expect(parseS3Notification('nope')).toEqual({ kind: 'invalid', reason: 'not-json' });
    expect(parseS3Notification('{"Records":[{"s3":{}}]}')).toEqual({ kind: 'invalid', reason: 'bad-record' });
  });

  test('object ids are stable and short', () => {
    expect(objectId('b', 'k')).toBe(objectId('b', 'k'));
    expect(objectId('b', 'k')).not.toBe(objectId('b', 'k2'));
    expect(objectId('b', 'k')).toMatch(/^[A-Za-z0-9_-]{10}$/);
  });
});
