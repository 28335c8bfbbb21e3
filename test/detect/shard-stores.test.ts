/** The local shard stores: whole objects, objects in parts read one part at a time, listing without part indexes. */
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MemoryShardStore, type ShardStore } from '../../src/detect/linkage/sharded';
import { FileShardStore } from '../../src/detect/linkage/sharded/file-store';
import { packParts } from '../../src/detect/linkage/sharded/parts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const stores: [string, () => ShardStore][] = [
  ['memory', () => new MemoryShardStore()],
  [
    'file',
    () => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'dg-store-'));
      dirs.push(dir);
      return new FileShardStore(dir);
    },
  ],
];

describe.each(stores)('%s shard store', (_name, make) => {
  it('reads back whole objects and each part alone, with non-ASCII bodies', async () => {
    const store = make();
    await store.put('run/accounts/0', 'a\n');
    await store.putParts(
      'run/occurrences/1',
      new Map([
        [3, '["t:é",1,0]\n'],
        [0, '["ip:x",2,1]\n'],
      ]),
    );
    expect(await store.get('run/accounts/0')).toBe('a\n');
    expect(await store.getPart('run/occurrences/1', 3)).toBe('["t:é",1,0]\n');
    expect(await store.getPart('run/occurrences/1', 0)).toBe('["ip:x",2,1]\n');
    expect(await store.getPart('run/occurrences/1', 7)).toBe('');
    expect(await store.list('run/occurrences/')).toEqual(['run/occurrences/1']);
  });

  it('names the missing object', async () => {
    const store = make();
    await expect(store.get('run/none')).rejects.toThrow('no object run/none');
    await expect(store.getPart('run/none', 0)).rejects.toThrow('run/none');
  });
});

it('lays parts out in order with byte ranges', () => {
  const { body, index } = packParts(
    new Map([
      [2, 'bb'],
      [1, 'é'],
    ]),
  );
  expect(JSON.parse(index)).toEqual({ 1: [0, 2], 2: [2, 4] });
  expect(body.subarray(2, 4).toString()).toBe('bb');
});
