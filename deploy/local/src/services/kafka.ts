import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { LOCAL_STACK } from '@pipeline/config';
import { CACHE_DIR, REPO_ROOT, STATE_DIR, logFile, pidFile } from '../paths';
import { run, spawnDaemon } from '../proc';
import { findJava, requireTool } from '../toolchain';
import type { Service } from '../service';

export const KAFKA_VERSION = '4.1.1';
const home = join(CACHE_DIR, `kafka-${KAFKA_VERSION}`);
const libs = join(home, 'libs');
const stateDir = join(STATE_DIR, 'kafka');
const dataDir = join(stateDir, 'data');
const { port, controllerPort } = LOCAL_STACK.kafka;
const host = LOCAL_STACK.host;

function serverProperties(): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${host}:${controllerPort}`,
    `listeners=PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    `advertised.listeners=PLAINTEXT://${host}:${port}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One node: every internal topic has one replica, or transactions and groups never start.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'num.partitions=3',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=168',
    'log.segment.bytes=268435456',
    'transaction.max.timeout.ms=900000',
    '',
  ].join('\n');
}

const log4j = [
  'status = warn',
  'appender.console.type = Console',
  'appender.console.name = STDOUT',
  'appender.console.layout.type = PatternLayout',
  'appender.console.layout.pattern = [%d] %p %m (%c)%n',
  'rootLogger.level = INFO',
  'rootLogger.appenderRef.stdout.ref = STDOUT',
  'logger.state.name = state.change.logger',
  'logger.state.level = WARN',
  '',
].join('\n');

export const kafka: Service = {
  name: 'kafka',
  version: `Apache Kafka ${KAFKA_VERSION} (KRaft, one node)`,
  ports: [port, controllerPort],
  marker: stateDir,
  stopSignal: 'SIGTERM',
  stopTimeoutMs: 60_000,
  readyTimeoutMs: 90_000,

  isInstalled: () => existsSync(join(home, '.installed')),

  async install() {
    requireTool('mvn', 'Maven (Debian package maven)');
    mkdirSync(libs, { recursive: true });
    run(
      'mvn',
      [
        '-B', '-q',
        '-f', join(REPO_ROOT, 'deploy/local/maven/kafka/pom.xml'),
        `-Dkafka.version=${KAFKA_VERSION}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${libs}`,
      ],
      { what: 'resolving the Kafka jars from Maven Central' },
    );
    if (!readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) throw new Error('Kafka jars missing after install');
    writeFileSync(join(home, '.installed'), `${KAFKA_VERSION}\n`);
  },

  async start() {
    mkdirSync(dataDir, { recursive: true });
    const props = join(stateDir, 'server.properties');
    const log4jFile = join(stateDir, 'log4j2.properties');
    writeFileSync(props, serverProperties());
    writeFileSync(log4jFile, log4j);
    const java = findJava(17);
    const cp = `${libs}/*`;
    if (!existsSync(join(dataDir, 'meta.properties'))) {
      const clusterId = run(java, ['-cp', cp, 'kafka.tools.StorageTool', 'random-uuid'], { what: 'kafka storage random-uuid' }).trim().split('\n').at(-1) ?? '';
      run(java, ['-cp', cp, `-Dlog4j2.configurationFile=${log4jFile}`, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', props], {
        what: 'kafka storage format',
      });
    }
    return spawnDaemon({
      command: java,
      args: [
        '-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${log4jFile}`,
        `-Dkafka.logs.dir=${stateDir}`,
        '-cp', cp,
        'kafka.Kafka', props,
      ],
      cwd: stateDir,
      logFile: logFile('kafka'),
      pidFile: pidFile('kafka'),
    });
  },

  async ready() {
    const client = new Kafka({ clientId: 'stack-probe', brokers: [`${host}:${port}`], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    const admin = client.admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      return cluster.brokers.length > 0;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },
};
