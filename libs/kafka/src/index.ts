export { createKafka, type KafkaSettings } from './client';
export { KAFKA_COMPRESSIONS, compressionType, registerCompressionCodecs, type KafkaCompression } from './compression';
export { ensureTopics, type TopicSpec } from './topics';
export { Murmur2Partitioner, murmur2 } from './partitioner';
