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
});
