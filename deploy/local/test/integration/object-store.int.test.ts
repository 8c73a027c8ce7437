import { randomBytes, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BucketItem } from 'minio';
import { createS3Client } from '@pipeline/lake';
import { createCleanup, stackSettings, uniqueName } from '@pipeline/testing';

const settings = stackSettings();
const s3 = createS3Client(settings);
const cleanup = createCleanup();
afterAll(() => cleanup.run());

async function readObject(bucket: string, key: string): Promise<Buffer> {
  const stream = await s3.getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function list(bucket: string, prefix: string): Promise<BucketItem[]> {
  const items: BucketItem[] = [];
  for await (const item of s3.listObjectsV2(bucket, prefix, true)) items.push(item as BucketItem);
  return items;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('object store through the minio client (real S3 API)', () => {
  it('creates a bucket, puts small and multipart objects, reads ranges, lists and deletes', async () => {
    const bucket = uniqueName('smoke').replace(/_/g, '-');
    await s3.makeBucket(bucket, settings.S3_REGION);
    cleanup.add(() => s3.removeBucket(bucket));
    expect(await s3.bucketExists(bucket)).toBe(true);

    const small = Buffer.from('{"hello":"lake"}\n');
    await s3.putObject(bucket, 'a/small.json', small, small.length, { 'Content-Type': 'application/json' });
    cleanup.add(() => s3.removeObject(bucket, 'a/small.json'));

    // 12 MiB with a 5 MiB part size: three parts, so the multipart path is exercised.
    const big = randomBytes(12 * 1024 * 1024);
    const multipart = createS3Client(settings, { partSize: 5 * 1024 * 1024 });
    // Fed in 64 KiB chunks like a file stream: minio-js sends one oversized write as a single part.
    const chunks = Array.from({ length: big.length / 65536 }, (_, i) => big.subarray(i * 65536, (i + 1) * 65536));
    const uploaded = await multipart.putObject(bucket, 'a/big.bin', Readable.from(chunks), big.length);
    cleanup.add(() => s3.removeObject(bucket, 'a/big.bin'));
    expect(uploaded.etag).toMatch(/-3$/);

    expect(await readObject(bucket, 'a/small.json')).toEqual(small);
    expect(sha(await readObject(bucket, 'a/big.bin'))).toBe(sha(big));

    const range = await s3.getPartialObject(bucket, 'a/big.bin', 1024, 16);
    const rangeChunks: Buffer[] = [];
    for await (const chunk of range) rangeChunks.push(chunk as Buffer);
    expect(Buffer.concat(rangeChunks)).toEqual(big.subarray(1024, 1040));

    const listed = await list(bucket, 'a/');
    expect(listed.map((i) => [i.name, i.size]).sort()).toEqual([
      ['a/big.bin', big.length],
      ['a/small.json', small.length],
    ]);

    await s3.removeObjects(bucket, ['a/small.json', 'a/big.bin']);
    expect(await list(bucket, 'a/')).toEqual([]);
    await expect(s3.statObject(bucket, 'a/small.json')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
