/**
 * A ShardStore on the local file system: one file per key under a root directory. Lets stage children run in
 * separate processes on one machine (the scale bench), as Lambda children share an S3 prefix.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ShardStore } from './index';

export class FileShardStore implements ShardStore {
  constructor(readonly root: string) {}

  async put(key: string, body: string): Promise<void> {
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
    return names.map((n) => prefix + n.split(path.sep).join('/')).sort();
  }
}
