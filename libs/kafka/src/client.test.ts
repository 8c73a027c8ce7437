import pino from 'pino';
import { createKafka } from './client';

describe('createKafka', () => {
  it('routes kafkajs warnings and errors to pino with their fields, and drops info chatter', () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const kafka = createKafka({ KAFKA_BROKERS: ['127.0.0.1:1'], KAFKA_SSL: false }, { clientId: 'unit', log });
    const logger = kafka.logger();
    logger.error('broker down', { broker: 'b1' });
    logger.info('joined group', { groupId: 'g' });
    logger.warn('rebalancing', { groupId: 'g' });
    expect(lines).toEqual([
      expect.objectContaining({ level: 50, msg: 'broker down', broker: 'b1', component: 'kafkajs' }),
      expect.objectContaining({ level: 40, msg: 'rebalancing', groupId: 'g' }),
    ]);
  });

  it('registers the ZSTD codec, so its consumers can read batches of any KAFKA_COMPRESSION', () => {
    jest.isolateModules(() => {
      // A fresh kafkajs, as a process that has not made a client yet has it.
      const { CompressionCodecs, CompressionTypes } = require('kafkajs') as typeof import('kafkajs');
      const fresh = require('./client') as typeof import('./client');
      expect(() => CompressionCodecs[CompressionTypes.ZSTD]()).toThrow(/not implemented/);
      fresh.createKafka({ KAFKA_BROKERS: ['127.0.0.1:1'], KAFKA_SSL: false }, { clientId: 'unit', log: pino({ level: 'silent' }) });
      expect(CompressionCodecs[CompressionTypes.ZSTD]()).toHaveProperty('decompress');
    });
  });
});
