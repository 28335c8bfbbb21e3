/**
 * A realistic access-log record (docs/contract.md), to measure the bytes the cost model charges for (CloudWatch Logs bills
 * the bytes of every line; Kinesis and Firehose round each record up). Plain TypeScript, no AWS imports.
 */

/** The access-log line API Gateway writes for one request (all values strings, docs/contract.md, "Access-log record"). */
export function sampleAccessLogRecord(i = 0): Record<string, string> {
  const models = ['claude-sonnet-5', 'claude-haiku-5', 'claude-opus-5'];
  const agents = [
    'anthropic-python/0.42.0',
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36',
    'python-requests/2.32.3',
    'node-fetch/1.0 (+https://github.com/bitinn/node-fetch)',
  ];
  const t = 1793577600000 + i * 37;
  const hex = (n: number, len: number) => (n >>> 0).toString(16).padStart(len, '0').slice(-len);
  return {
    requestId: `${hex(i * 2654435761, 8)}-${hex(i * 40503, 4)}-4${hex(i, 3)}-a${hex(i * 7, 3)}-${hex(i * 97, 6)}${hex(i * 13, 6)}`,
    requestTimeEpoch: String(t),
    requestTime: '02/Nov/2026:00:00:09 +0000',
    accountId: `acct_${100000 + ((i * 7919) % 50000)}`,
    apiKeyId: i % 3 === 2 ? '-' : `k${hex(i * 2246822519, 9)}`,
    sourceIp: `203.0.${i % 255}.${(i * 13) % 255}`,
    userAgent: agents[i % agents.length]!,
    httpMethod: 'POST',
    path: `/prod/v1/models/${models[i % models.length]}/messages`,
    status: ['200', '200', '200', '429', '400'][i % 5]!,
    responseLength: String(1000 + ((i * 7) % 9000)),
    integrationLatency: String(300 + ((i * 31) % 9000)),
    accountCreatedAt: String(1761955200000 + (i % 5000) * 1000),
  };
}

/** Mean UTF-8 size in bytes of `n` sample records serialised as API Gateway writes them (one JSON object per line). */
export function measureRecordBytes(n = 1000): number {
  let total = 0;
  for (let i = 0; i < n; i++) total += Buffer.byteLength(JSON.stringify(sampleAccessLogRecord(i)), 'utf8');
  return total / n;
}
