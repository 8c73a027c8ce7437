import { Readable } from 'node:stream';
import { Client } from 'minio';

export interface S3Settings {
  S3_ENDPOINT: string;
  S3_REGION: string;
  S3_ACCESS_KEY: string;
  S3_SECRET_KEY: string;
  S3_PATH_STYLE: boolean;
}

/**
 * A `minio` client for any S3-compatible store (MinIO, AIStor, Ceph RGW, SeaweedFS, Versity, AWS) from config.
 * Objects larger than `partSize` bytes (default 64 MiB, minimum 5 MiB) are uploaded in parts.
 */
export function createS3Client(settings: S3Settings, opts: { partSize?: number } = {}): Client {
  const url = new URL(settings.S3_ENDPOINT);
  const useSSL = url.protocol === 'https:';
  return new Client({
    endPoint: url.hostname,
    port: url.port ? Number(url.port) : useSSL ? 443 : 80,
    useSSL,
    accessKey: settings.S3_ACCESS_KEY,
    secretKey: settings.S3_SECRET_KEY,
    region: settings.S3_REGION,
    pathStyle: settings.S3_PATH_STYLE,
    ...(opts.partSize ? { partSize: opts.partSize } : {}),
  });
}

/** Reads a whole object into memory (metadata and manifests; not for data files). */
export async function readObject(s3: Client, bucket: string, key: string): Promise<Buffer> {
  const stream = await s3.getObject(bucket, key);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Uploads `data` to `bucket/key`. Objects larger than the client's part size go up as a multipart
 * upload, fed in 1 MiB chunks (minio-js would send one oversized write as a single part);
 * `onProgress` sees the bytes handed to the client so far (tests inject faults there).
 */
export async function uploadObject(
  s3: Client,
  bucket: string,
  key: string,
  data: Uint8Array,
  opts: { contentType?: string; onProgress?: (bytes: number) => void } = {},
): Promise<void> {
  const meta = { 'Content-Type': opts.contentType ?? 'application/octet-stream' };
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!opts.onProgress && buf.length <= 5 * 1024 * 1024) {
    await s3.putObject(bucket, key, buf, buf.length, meta);
    return;
  }
  const chunk = 1024 * 1024;
  let offset = 0;
  const onProgress = opts.onProgress;
  const stream = new Readable({
    read() {
      if (offset >= buf.length) {
        this.push(null);
        return;
      }
      const end = Math.min(buf.length, offset + chunk);
      const piece = buf.subarray(offset, end);
      offset = end;
      onProgress?.(offset);
      this.push(piece);
    },
  });
  await s3.putObject(bucket, key, stream, buf.length, meta);
}
