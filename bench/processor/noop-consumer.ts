/**
 * The baseline: a kafkajs consumer that only counts records, with the processor's fetch settings
 * (see baseline-consumer.ts for its environment and output).
 */
import { runBaselineConsumer } from './baseline-consumer';

runBaselineConsumer('bench-noop', async (batch) => batch.messages.length);
