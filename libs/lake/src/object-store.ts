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
