/**
 * patches/kafkajs+2.2.4.patch keeps the transaction and group coordinators the transactional
 * producer found (kafkajs asked FindCoordinator before each of AddPartitionsToTxn, AddOffsetsToTxn,
 * TxnOffsetCommit and EndTxn) and looks them up again after any failure or a lost connection. This
 * drives kafkajs' own transaction manager with a cluster that counts lookups.
 */
const createEosManager = require('kafkajs/src/producer/eosManager') as (args: object) => EosManager;
const COORDINATOR_TYPES = require('kafkajs/src/protocol/coordinatorTypes') as { GROUP: number; TRANSACTION: number };
const { KafkaJSProtocolError } = require('kafkajs/src/errors') as { KafkaJSProtocolError: new (e: { type: string; code: number; retriable: boolean; message: string }) => Error };

interface EosManager {
  initProducerId(): Promise<void>;
  beginTransaction(): void;
  addPartitionsToTransaction(topicData: Array<{ topic: string; partitions: Array<{ partition: number }> }>): Promise<void>;
  sendOffsets(args: { consumerGroupId: string; topics: Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }> }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

class FakeBroker {
  connected = true;
  readonly calls: string[] = [];
  failNext: string | undefined;
  constructor(readonly nodeId: number) {}
  isConnected(): boolean {
    return this.connected;
  }
  private call(name: string): Promise<Record<string, unknown>> {
    this.calls.push(name);
    if (this.failNext === name) {
      this.failNext = undefined;
      return Promise.reject(new KafkaJSProtocolError({ type: 'NOT_COORDINATOR', code: 16, retriable: true, message: 'This is not the correct coordinator.' }));
    }
    return Promise.resolve({ producerId: '1000', producerEpoch: 0 });
  }
  initProducerId = () => this.call('initProducerId');
  addPartitionsToTxn = () => this.call('addPartitionsToTxn');
  addOffsetsToTxn = () => this.call('addOffsetsToTxn');
  txnOffsetCommit = () => this.call('txnOffsetCommit');
  endTxn = () => this.call('endTxn');
}

type CoordinatorKind = 'group' | 'transaction';

function fakeCluster() {
  const lookups: Array<{ type: CoordinatorKind; key: string }> = [];
  const next: Record<CoordinatorKind, FakeBroker> = { transaction: new FakeBroker(1), group: new FakeBroker(1) };
  next.group = next.transaction;
  return {
    lookups,
    /** The broker the next lookups of `kinds` answer with (the coordinator moved). */
    moveTo(broker: FakeBroker, kinds: CoordinatorKind[] = ['transaction', 'group']) {
      for (const kind of kinds) next[kind] = broker;
    },
    current: (kind: CoordinatorKind = 'transaction') => next[kind],
    cluster: {
      retry: { retries: 2, initialRetryTime: 1, maxRetryTime: 5 },
      refreshMetadataIfNecessary: () => Promise.resolve(),
      findGroupCoordinator: ({ groupId, coordinatorType }: { groupId: string; coordinatorType: number }) => {
        const type: CoordinatorKind = coordinatorType === COORDINATOR_TYPES.TRANSACTION ? 'transaction' : 'group';
        lookups.push({ type, key: groupId });
        return Promise.resolve(next[type]);
      },
    },
  };
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function transaction(eos: EosManager): Promise<void> {
  eos.beginTransaction();
  await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
  await eos.sendOffsets({ consumerGroupId: 'group-a', topics: [{ topic: 'in', partitions: [{ partition: 0, offset: '10' }] }] });
  await eos.commit();
}

/** A transaction manager on a fake cluster, its producer id initialised and one transaction done. */
async function started(): Promise<{ f: ReturnType<typeof fakeCluster>; eos: EosManager }> {
  const f = fakeCluster();
  const eos = createEosManager({ logger: quiet, cluster: f.cluster, transactional: true, transactionalId: 'tx-1' });
  await eos.initProducerId();
  await transaction(eos);
  return { f, eos };
}

describe('transactional producer coordinators (kafkajs patch)', () => {
  it('looks each coordinator up once for many transactions', async () => {
    const { f, eos } = await started();
    for (let i = 0; i < 9; i++) await transaction(eos);
    expect(f.lookups).toEqual([
      { type: 'transaction', key: 'tx-1' },
      { type: 'group', key: 'group-a' },
    ]);
    expect(f.current().calls.filter((c) => c === 'endTxn')).toHaveLength(10);
  });

  it('looks the transaction coordinator up again after a request to it failed', async () => {
    const { f, eos } = await started();
    const old = f.current();
    eos.beginTransaction();
    await eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 0 }] }]);
    old.failNext = 'addPartitionsToTxn';
    await expect(eos.addPartitionsToTransaction([{ topic: 'out', partitions: [{ partition: 1 }] }])).rejects.toThrow('not the correct coordinator');
    const moved = new FakeBroker(2);
    f.moveTo(moved);
    await eos.abort();
    expect(moved.calls).toEqual(['endTxn']);
    await transaction(eos);
    // Only the transaction coordinator moved: the kept group coordinator still takes TxnOffsetCommit.
    expect(moved.calls).toEqual(['endTxn', 'addPartitionsToTxn', 'addOffsetsToTxn', 'endTxn']);
    expect(old.calls.slice(-3)).toEqual(['addPartitionsToTxn', 'addPartitionsToTxn', 'txnOffsetCommit']);
    expect(f.lookups.filter((l) => l.type === 'transaction')).toHaveLength(2);
  });

  it('looks the group coordinator up again when TxnOffsetCommit says it moved', async () => {
    const { f, eos } = await started();
    const moved = new FakeBroker(2);
    f.current('group').failNext = 'txnOffsetCommit';
    // The transaction coordinator stays on broker 1; only the group coordinator moves.
    f.moveTo(moved, ['group']);
    await transaction(eos);
    expect(moved.calls).toEqual(['txnOffsetCommit']);
    await transaction(eos);
    expect(moved.calls).toEqual(['txnOffsetCommit', 'txnOffsetCommit']);
    expect(f.lookups.filter((l) => l.type === 'group')).toHaveLength(2);
    expect(f.lookups.filter((l) => l.type === 'transaction')).toHaveLength(1);
  });

  it('looks a coordinator up again once its connection is gone', async () => {
    const { f, eos } = await started();
    f.current().connected = false;
    const fresh = new FakeBroker(1);
    f.moveTo(fresh);
    await transaction(eos);
    expect(fresh.calls).toEqual(['addPartitionsToTxn', 'addOffsetsToTxn', 'txnOffsetCommit', 'endTxn']);
    expect(f.lookups).toHaveLength(4);
  });
});
