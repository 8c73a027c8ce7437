import { Kafka, logLevel, type KafkaConfig, type LogEntry, type SASLOptions } from 'kafkajs';
import type { Logger } from '@pipeline/runtime';
import { registerCompressionCodecs } from './compression';

export interface KafkaSettings {
  KAFKA_BROKERS: string[];
  KAFKA_CLIENT_ID?: string | undefined;
  KAFKA_SSL: boolean;
  KAFKA_SASL_MECHANISM?: 'plain' | 'scram-sha-256' | 'scram-sha-512' | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: string | undefined;
}

const LEVELS: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * A kafkajs client whose warnings and errors go through pino (its info lines are not emitted in steady state).
 * Registers the ZSTD codec, so its consumers read batches of any KAFKA_COMPRESSION.
 */
export function createKafka(settings: KafkaSettings, opts: { clientId: string; log: Logger }): Kafka {
  registerCompressionCodecs();
  const log = opts.log.child({ component: 'kafkajs' });
  const config: KafkaConfig = {
    clientId: settings.KAFKA_CLIENT_ID ?? opts.clientId,
    brokers: settings.KAFKA_BROKERS,
    ssl: settings.KAFKA_SSL,
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 10_000 },
    logLevel: logLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        const { message, ...rest } = entry;
        const method = LEVELS[level] ?? 'info';
        log[method](rest, message);
      },
  };
  if (settings.KAFKA_SASL_MECHANISM) {
    config.sasl = {
      mechanism: settings.KAFKA_SASL_MECHANISM,
      username: settings.KAFKA_SASL_USERNAME ?? '',
      password: settings.KAFKA_SASL_PASSWORD ?? '',
    } as SASLOptions;
  }
  return new Kafka(config);
}
