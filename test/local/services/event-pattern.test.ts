/**
 * The event-pattern matcher against the examples of the AWS EventBridge user guide ("Creating event patterns",
 * "Content filtering in Amazon EventBridge event patterns", "Comparison operators for use in event patterns",
 * "Event patterns and arrays", "Matching null values and empty strings"). Patterns are the documented ones; where
 * the guide shows no event, the event is the minimal one the guide's sentence describes (matching or not).
 */
import { InvalidEventPatternError, matchesEventPattern, parseEventPattern } from '../../../local/services/event-pattern';

// The guide's EC2 state-change example event.
const ec2Event = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

type Case = [name: string, pattern: object, event: object, expected: boolean];

// The guide's prefix-ignoring-case example, matched against several services.
const serviceStartsWithEventB = { detail: { service: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } };

const cases: Case[] = [
  // Creating event patterns
  [
    'basic: source + detail-type + detail.state',
    { source: ['aws.ec2'], 'detail-type': ['EC2 Instance State-change Notification'], detail: { state: ['terminated'] } },
    ec2Event,
    true,
  ],
  ['basic: state differs', { source: ['aws.ec2'], detail: { state: ['running'] } }, ec2Event, false],
  ['multiple values are OR', { source: ['aws.ec2', 'aws.fargate'] }, ec2Event, true],
  ['multiple values are OR (no match)', { source: ['aws.s3', 'aws.fargate'] }, ec2Event, false],
  ['field missing from event', { detail: { 'no-such-field': ['x'] } }, ec2Event, false],
  ['exact matching is case sensitive', { source: ['AWS.EC2'] }, ec2Event, false],
  ['number pattern does not match string value', { detail: { state: [123] } }, { detail: { state: '123' } }, false],

  // Prefix matching
  ['prefix', { time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' }, true],
  ['prefix (no match)', { time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-03T18:43:48Z' }, false],
  ['prefix ignoring case: EventBridge', serviceStartsWithEventB, { detail: { service: 'EventBridge' } }, true],
  ['prefix ignoring case: EVENTB...', serviceStartsWithEventB, { detail: { service: 'EVENTBRIDGE' } }, true],
  ['prefix ignoring case: eventb...', serviceStartsWithEventB, { detail: { service: 'eventbridge' } }, true],
  ['prefix ignoring case (no match)', serviceStartsWithEventB, { detail: { service: 'Lambda' } }, false],

  // Suffix matching
  ['suffix', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.png' }, true],
  ['suffix (no match)', { FileName: [{ suffix: '.png' }] }, { FileName: 'image.jpg' }, false],
  ['suffix ignoring case', { detail: { FileName: [{ suffix: { 'equals-ignore-case': '.png' } }] } }, { detail: { FileName: 'IMAGE.PNG' } }, true],

  // Anything-but matching
  ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: { state: 'running' } }, true],
  ['anything-but string (excluded)', { detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: { state: 'initializing' } }, false],
  ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, { detail: { 'x-limit': 456 } }, true],
  ['anything-but number (excluded)', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }, { detail: { 'x-limit': 123 } }, false],
  ['anything-but string list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }, { detail: { state: 'running' } }, true],
  [
    'anything-but string list (excluded)',
    { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } },
    { detail: { state: 'overloaded' } },
    false,
  ],
  ['anything-but number list', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, { detail: { 'x-limit': 150 } }, true],
  ['anything-but number list (excluded)', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }, { detail: { 'x-limit': 200 } }, false],
  ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, { detail: { state: 'running' } }, true],
  ['anything-but prefix (excluded)', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }, { detail: { state: 'initializing' } }, false],
  ['anything-but prefix: Region not in the US', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'eu-west-1' }, true],
  ['anything-but prefix: Region in the US', { Region: [{ 'anything-but': { prefix: 'us-' } }] }, { Region: 'us-east-1' }, false],
  ['anything-but suffix', { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } }, { detail: { FileName: 'photo.png' } }, true],
  [
    'anything-but suffix (excluded)',
    { detail: { FileName: [{ 'anything-but': { suffix: '.txt' } }] } },
    { detail: { FileName: 'notes.txt' } },
    false,
  ],
  [
    'anything-but ignore case',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    { detail: { state: 'INITIALIZING' } },
    false,
  ],
  [
    'anything-but ignore case (other value)',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] } },
    { detail: { state: 'running' } },
    true,
  ],
  [
    'anything-but ignore case list',
    { detail: { state: [{ 'anything-but': { 'equals-ignore-case': ['pending', 'stopped'] } }] } },
    { detail: { state: 'Stopped' } },
    false,
  ],
  ['anything-but wildcard', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: '/user/bin/tool' }, true],
  ['anything-but wildcard (excluded)', { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] }, { FilePath: '/user/lib/tool' }, false],
  ['anything-but needs the field', { detail: { state: [{ 'anything-but': 'initializing' }] } }, { detail: {} }, false],

  // Numeric matching (the guide's example)
  [
    'numeric: c-count, d-count, x-limit all in range',
    { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    { detail: { 'c-count': 5, 'd-count': 7, 'x-limit': 301.8 } },
    true,
  ],
  [
    'numeric: c-count out of range',
    { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }], 'd-count': [{ numeric: ['<', 10] }], 'x-limit': [{ numeric: ['=', 3.018e2] }] } },
    { detail: { 'c-count': 6, 'd-count': 7, 'x-limit': 301.8 } },
    false,
  ],
  ['numeric: lower bound is exclusive', { detail: { 'c-count': [{ numeric: ['>', 0, '<=', 5] }] } }, { detail: { 'c-count': 0 } }, false],
  ['numeric: string value never matches', { detail: { 'c-count': [{ numeric: ['>', 0] }] } }, { detail: { 'c-count': '5' } }, false],
  ['numeric: >= and <', { detail: { n: [{ numeric: ['>=', 10, '<', 20] }] } }, { detail: { n: 10 } }, true],

  // IP address matching
  ['cidr ipv4', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, { detail: { sourceIPAddress: '10.0.0.255' } }, true],
  ['cidr ipv4 (outside)', { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } }, { detail: { sourceIPAddress: '10.0.1.0' } }, false],
  ['cidr ipv6', { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } }, { detail: { sourceIPAddress: '2001:db8:1234::1' } }, true],
  ['cidr ipv6 (outside)', { detail: { sourceIPAddress: [{ cidr: '2001:db8::/32' }] } }, { detail: { sourceIPAddress: '2001:db9::1' } }, false],

  // Exists matching
  ['exists true', { detail: { state: [{ exists: true }] } }, { detail: { state: 'running' } }, true],
  ['exists true (absent)', { detail: { state: [{ exists: true }] } }, { detail: {} }, false],
  ['exists false', { detail: { 'c-count': [{ exists: false }] } }, { detail: { state: 'running' } }, true],
  ['exists false (present)', { detail: { 'c-count': [{ exists: false }] } }, { detail: { 'c-count': 3 } }, false],
  ['exists only works on leaf nodes', { detail: { state: [{ exists: true }] } }, { detail: { state: { name: 'running' } } }, false],
  ['exists false when the parent is missing', { detail: { 'c-count': [{ exists: false }] } }, { source: 'x' }, true],

  // Equals-ignore-case matching
  ['equals-ignore-case', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state-change notification' }] }, ec2Event, true],
  ['equals-ignore-case (no match)', { 'detail-type': [{ 'equals-ignore-case': 'ec2 instance state notification' }] }, ec2Event, false],

  // Wildcard matching
  [
    'wildcard',
    { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    { EventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/myBus' },
    true,
  ],
  [
    'wildcard (other region)',
    { EventBusArn: [{ wildcard: 'arn:aws:events:us-east-1:*:event-bus/*' }] },
    { EventBusArn: 'arn:aws:events:us-west-2:123456789012:event-bus/myBus' },
    false,
  ],
  ['wildcard in the middle', { FileName: [{ wildcard: 'dir/*.png' }] }, { FileName: 'dir/sub/file.png' }, true],
  ['wildcard escaped star is literal', { FileName: [{ wildcard: 'a\\*b' }] }, { FileName: 'a*b' }, true],
  ['wildcard escaped star does not glob', { FileName: [{ wildcard: 'a\\*b' }] }, { FileName: 'axxb' }, false],

  // $or matching
  [
    '$or at the top level (metricName)',
    { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    { source: 'aws.cloudwatch', metricName: 'ReadLatency', namespace: 'AWS/RDS' },
    true,
  ],
  [
    '$or at the top level (namespace)',
    { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    { source: 'aws.cloudwatch', metricName: 'WriteLatency', namespace: 'AWS/ES' },
    true,
  ],
  [
    '$or at the top level (neither)',
    { source: ['aws.cloudwatch'], $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }] },
    { source: 'aws.cloudwatch', metricName: 'WriteLatency', namespace: 'AWS/RDS' },
    false,
  ],
  [
    '$or nested in detail with numeric',
    {
      detail: {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }],
      },
    },
    { detail: { 'c-count': 50, 'd-count': 50, 'x-limit': 301.8 } },
    true,
  ],
  [
    '$or nested in detail (none)',
    {
      detail: {
        $or: [{ 'c-count': [{ numeric: ['>', 0, '<=', 5] }] }, { 'd-count': [{ numeric: ['<', 10] }] }, { 'x-limit': [{ numeric: ['=', 3.018e2] }] }],
      },
    },
    { detail: { 'c-count': 50, 'd-count': 50, 'x-limit': 1 } },
    false,
  ],

  // Null values and empty strings
  ['null matches a null value', { detail: { responseElements: [null] } }, { detail: { eventVersion: '', responseElements: null } }, true],
  ['empty string matches an empty value', { detail: { eventVersion: [''] } }, { detail: { eventVersion: '', responseElements: null } }, true],
  ['null does not match a missing field', { detail: { responseElements: [null] } }, { detail: { eventVersion: '' } }, false],

  // Event patterns and arrays
  [
    'array in event: any element matches',
    {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    },
    { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f', 'arn:aws:ec2:us-east-1:777788889999:instance/i-b188560f'] },
    true,
  ],
  [
    'array in event: no element matches',
    { resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f'] },
    { resources: ['arn:aws:ec2:us-east-1:777788889999:instance/i-b188560f', 'arn:aws:ec2:us-east-1:000011112222:instance/i-b188560f'] },
    false,
  ],
  ['array of objects in event: nested field', { detail: { items: { sku: ['B'] } } }, { detail: { items: [{ sku: 'A' }, { sku: 'B' }] } }, true],

  // distill-guard's own subscriber patterns (the contract's ban events)
  [
    'ban event subscription on detail.decidedBy',
    { source: ['distill-guard'], 'detail-type': ['Account Suspended'], detail: { decidedBy: [{ prefix: 'auto' }] } },
    { source: 'distill-guard', 'detail-type': 'Account Suspended', detail: { decidedBy: 'auto', accountId: 'a1' } },
    true,
  ],
];

describe('event pattern matcher (AWS documented examples)', () => {
  test.each(cases)('%s', (_name, pattern, event, expected) => {
    expect(matchesEventPattern(parseEventPattern(JSON.stringify(pattern)), event)).toBe(expected);
  });

  test.each([
    ['not json', '{source:'],
    ['leaf is a scalar', { source: 'aws.ec2' }],
    ['empty leaf array', { source: [] }],
    ['unknown operator', { source: [{ 'starts-with': 'a' }] }],
    ['numeric with unknown comparison', { n: [{ numeric: ['>>', 1] }] }],
    ['numeric range with two lower bounds', { n: [{ numeric: ['>', 1, '>', 2] }] }],
    ['bad cidr', { ip: [{ cidr: '10.0.0.0/33' }] }],
    ['$or with a single branch', { $or: [{ a: ['x'] }] }],
    ['wildcard with consecutive stars', { f: [{ wildcard: 'a**b' }] }],
    ['anything-but of mixed types', { f: [{ 'anything-but': ['a', 1] }] }],
  ])('rejects an invalid pattern: %s', (_name, pattern) => {
    expect(() => parseEventPattern(typeof pattern === 'string' ? pattern : JSON.stringify(pattern))).toThrow(InvalidEventPatternError);
  });
});
