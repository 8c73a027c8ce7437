import type { Message } from 'kafkajs';

/** Records one batch produces, per topic, in the order they were added (per-partition order is kept by Kafka). */
export class Outbox {
  private readonly topics = new Map<string, Message[]>();
  private bytes = 0;
  private count = 0;

  add(topic: string, message: Message): void {
    let list = this.topics.get(topic);
    if (list === undefined) {
      list = [];
      this.topics.set(topic, list);
    }
    list.push(message);
    this.count++;
    this.bytes += sizeOf(message.value) + sizeOf(message.key) + 64;
  }

  get size(): number {
    return this.count;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Records and estimated bytes per topic (for failure reports). */
  summary(): Record<string, { records: number; bytes: number }> {
    const out: Record<string, { records: number; bytes: number }> = {};
    for (const [topic, messages] of this.topics) {
      out[topic] = { records: messages.length, bytes: messages.reduce((sum, m) => sum + sizeOf(m.value) + sizeOf(m.key), 0) };
    }
    return out;
  }

  messages(topic: string): readonly Message[] {
    return this.topics.get(topic) ?? [];
  }

  /**
   * The records as kafkajs `topicMessages`, cut into groups of at most `maxBytes` so no produce
   * request carries a record batch the broker refuses (message.max.bytes), and of at most
   * `maxRecords` records. Order is kept across groups.
   */
  chunks(maxBytes: number, maxRecords = Infinity): { topic: string; messages: Message[] }[][] {
    const groups: { topic: string; messages: Message[] }[][] = [];
    let group: { topic: string; messages: Message[] }[] = [];
    let groupBytes = 0;
    let groupRecords = 0;
    for (const [topic, messages] of this.topics) {
      let current: Message[] = [];
      for (const message of messages) {
        const size = sizeOf(message.value) + sizeOf(message.key) + 64;
        if ((groupBytes + size > maxBytes || groupRecords >= maxRecords) && groupRecords > 0) {
          if (current.length > 0) group.push({ topic, messages: current });
          groups.push(group);
          group = [];
          current = [];
          groupBytes = 0;
          groupRecords = 0;
        }
        current.push(message);
        groupBytes += size;
        groupRecords++;
      }
      if (current.length > 0) group.push({ topic, messages: current });
    }
    if (group.length > 0) groups.push(group);
    return groups;
  }
}

function sizeOf(value: Buffer | string | null | undefined): number {
  if (value === null || value === undefined) return 0;
  return typeof value === 'string' ? value.length * 2 : value.length;
}
