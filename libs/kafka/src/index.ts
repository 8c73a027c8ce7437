export { createKafka, type KafkaSettings } from './client';
export { ensureTopics, type TopicSpec } from './topics';
