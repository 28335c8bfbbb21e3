/**
 * How a store lays out an object written in parts: the parts' bytes one after another, and beside the object a small
 * index (`<key>.parts`, JSON: part -> [start, end) byte range) so a reader fetches its range alone. Each part is
 * encoded on its own (the S3 store gzips each), so a range decodes without the rest.
 */

export const PARTS_INDEX_SUFFIX = '.parts';

export type PartsIndex = Record<string, [start: number, end: number]>;

export function isPartsIndex(key: string): boolean {
  return key.endsWith(PARTS_INDEX_SUFFIX);
}

/** The object's bytes and its index, each part encoded by `encode`. */
export function packParts(
  parts: ReadonlyMap<number, string>,
  encode: (body: string) => Buffer = (b) => Buffer.from(b, 'utf8'),
): { body: Buffer; index: string } {
  const chunks: Buffer[] = [];
  const index: PartsIndex = {};
  let offset = 0;
  for (const [part, text] of [...parts].sort((x, y) => x[0] - y[0])) {
    const bytes = encode(text);
    index[part] = [offset, offset + bytes.length];
    chunks.push(bytes);
    offset += bytes.length;
  }
  return { body: Buffer.concat(chunks), index: JSON.stringify(index) };
}
