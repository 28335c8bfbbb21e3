/**
 * A ShardStore on the local file system: one file per key under a root directory. Lets stage children run in
 * separate processes on one machine (the scale bench), as Lambda children share an S3 prefix.
 */
import { mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ShardStore } from './index';
import { isPartsIndex, packParts, PARTS_INDEX_SUFFIX, type PartsIndex } from './parts';

export class FileShardStore implements ShardStore {
  constructor(readonly root: string) {}

  async put(key: string, body: string | Buffer): Promise<void> {
    const file = path.join(this.root, key);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, body);
  }

  async get(key: string): Promise<string> {
    try {
      return await readFile(path.join(this.root, key), 'utf8');
    } catch (err) {
      throw new Error(`shard store: no object ${key} under ${this.root} (${(err as Error).message})`);
    }
  }

  /** Keys under `prefix`, which names a directory (it ends in `/`). */
  async list(prefix: string): Promise<string[]> {
    const dir = path.join(this.root, prefix);
    let names: string[];
    try {
      names = (await readdir(dir, { recursive: true, withFileTypes: true }))
        .filter((d) => d.isFile())
        .map((d) => path.relative(dir, path.join(d.parentPath, d.name)));
    } catch {
      return [];
    }
    return names
      .map((n) => prefix + n.split(path.sep).join('/'))
      .filter((k) => !isPartsIndex(k))
      .sort();
  }

  async putParts(key: string, parts: ReadonlyMap<number, string>): Promise<void> {
    const { body, index } = packParts(parts);
    await this.put(key, body);
    await this.put(key + PARTS_INDEX_SUFFIX, index);
  }

  async getPart(key: string, part: number): Promise<string> {
    const range = (JSON.parse(await this.get(key + PARTS_INDEX_SUFFIX)) as PartsIndex)[part];
    if (!range) return '';
    const file = await open(path.join(this.root, key), 'r');
    try {
      const buf = Buffer.alloc(range[1] - range[0]);
      await file.read(buf, 0, buf.length, range[0]);
      return buf.toString('utf8');
    } finally {
      await file.close();
    }
  }
}
