#!/usr/bin/env node
// Smoke test of the local Kafka broker with kafkajs (the client the app uses):
//   1. admin: createTopics (explicit; the broker has auto.create.topics.enable=false)
//   2. idempotent producer: send with acks=all
//   3. consumer group: subscribe + consume what was produced
//   4. transactional producer: transaction() -> send -> commit, and one abort, read back with
//      read_committed (the aborted record must not show up)
//   5. consume-transform-produce: transaction.sendOffsets() commits group offsets atomically
//   6. admin: deleteTopics (tidy up)
// Usage: node smoke.mjs [brokers]   (default $KAFKA_BROKERS or 127.0.0.1:59092)
// Exits 0 and prints "kafka smoke: ok (...)" on success; prints the failing step and exits 1.
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.argv[2] || process.env.KAFKA_BROKERS || '127.0.0.1:59092').split(',');
const TIMEOUT_MS = Number(process.env.SMOKE_TIMEOUT_MS || 90000);
const run = `${Date.now().toString(36)}-${process.pid}`;
const topicA = `cc-smoke-${run}`;
const topicTx = `cc-smoke-tx-${run}`;
const topicOut = `cc-smoke-out-${run}`;

// kafkajs logs retriable errors (e.g. "coordinator is loading" on the first transaction after a
// fresh start) at ERROR level; keep them and print them only if the smoke test fails.
const logLines = [];
const logCreator =
  () =>
  ({ namespace, label, log }) => {
    logLines.push(`${label} [${namespace}] ${log.message}${log.error ? `: ${log.error}` : ''}`);
  };

const kafka = new Kafka({
  clientId: 'cloudconnect-stack-smoke',
  brokers,
  logLevel: logLevel.WARN,
  logCreator,
  connectionTimeout: 3000,
  requestTimeout: 10000,
});

let step = 'start';
const t0 = Date.now();
const timings = [];
let tStep = t0;
const next = (name) => {
  const t = Date.now();
  if (step !== 'start') timings.push(`${step}: ${t - tStep} ms`);
  tStep = t;
  step = name;
};
const guard = setTimeout(() => {
  if (logLines.length) console.error(`kafkajs log:\n  ${logLines.join('\n  ')}`);
  console.error(`kafka smoke: FAILED at step "${step}": timed out after ${TIMEOUT_MS} ms`);
  process.exit(1);
}, TIMEOUT_MS);

const clients = [];
const track = (c) => (clients.push(c), c);

/** Consume `want` records from `topic` with a fresh group; returns the values. */
async function consumeN(topic, want, groupId, opts = {}) {
  const consumer = track(
    kafka.consumer({
      groupId,
      ...opts,
      sessionTimeout: 10000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 250,
    }),
  );
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new Error(
            `consumed ${got.length}/${want} record(s) from ${topic} within 30s: ${JSON.stringify(got)}`,
          ),
        ),
      30000,
    );
    consumer
      .run({
        eachMessage: async ({ message }) => {
          got.push(message.value.toString());
          if (got.length >= want) {
            clearTimeout(timer);
            resolve();
          }
        },
      })
      .catch(reject);
  });
  // give a late (unexpected) record a moment to show up
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return got;
}

try {
  next('admin connect');
  const admin = track(kafka.admin());
  await admin.connect();
  const cluster = await admin.describeCluster();

  next('admin createTopics');
  const created = await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic: topicA, numPartitions: 3, replicationFactor: 1 },
      { topic: topicTx, numPartitions: 1, replicationFactor: 1 },
      { topic: topicOut, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  if (!created) throw new Error('createTopics returned false (topics already existed?)');

  next('idempotent producer send');
  const producer = track(kafka.producer({ idempotent: true, maxInFlightRequests: 1 }));
  await producer.connect();
  const values = ['one', 'two', 'three', 'four'];
  await producer.send({
    topic: topicA,
    acks: -1,
    messages: values.map((v, i) => ({ key: `k${i}`, value: v })),
  });
  await producer.disconnect();

  next('consumer group consume');
  const got = await consumeN(topicA, values.length, `cc-smoke-group-${run}`);
  if ([...got].sort().join() !== [...values].sort().join())
    throw new Error(`consumed ${JSON.stringify(got)}`);

  next('transactional producer (commit + abort)');
  const txProducer = track(
    kafka.producer({ transactionalId: `cc-smoke-tx-${run}`, idempotent: true, maxInFlightRequests: 1 }),
  );
  await txProducer.connect();
  const tx1 = await txProducer.transaction();
  await tx1.send({
    topic: topicTx,
    messages: [
      { key: 'a', value: 'committed-1' },
      { key: 'b', value: 'committed-2' },
    ],
  });
  await tx1.commit();
  const tx2 = await txProducer.transaction();
  await tx2.send({ topic: topicTx, messages: [{ key: 'c', value: 'aborted' }] });
  await tx2.abort();
  const tx3 = await txProducer.transaction();
  await tx3.send({ topic: topicTx, messages: [{ key: 'd', value: 'committed-3' }] });
  await tx3.commit();

  next('read_committed consume of the transactional topic');
  const txGot = await consumeN(topicTx, 3, `cc-smoke-txgroup-${run}`, { readUncommitted: false });
  if (txGot.includes('aborted')) throw new Error(`aborted record visible: ${JSON.stringify(txGot)}`);
  if (txGot.join() !== 'committed-1,committed-2,committed-3') throw new Error(`got ${JSON.stringify(txGot)}`);

  next('consume-transform-produce with transaction.sendOffsets');
  const eosGroup = `cc-smoke-eos-${run}`;
  const tx4 = await txProducer.transaction();
  await tx4.send({ topic: topicOut, messages: [{ value: 'transformed' }] });
  await tx4.sendOffsets({
    consumerGroupId: eosGroup,
    topics: [{ topic: topicTx, partitions: [{ partition: 0, offset: '2' }] }],
  });
  await tx4.commit();
  await txProducer.disconnect();
  // The commit markers reach __consumer_offsets asynchronously after EndTxn returns (kafkajs has
  // no KIP-447 requireStable), so poll briefly.
  let committed;
  for (let i = 0; i < 50; i += 1) {
    const offsets = await admin.fetchOffsets({ groupId: eosGroup, topics: [topicTx] });
    committed = offsets[0]?.partitions?.[0]?.offset;
    if (committed === '2') break;
    await new Promise((r) => setTimeout(r, 200));
  }
  if (committed !== '2') throw new Error(`group offset 10s after sendOffsets+commit is ${committed}, want 2`);
  const outGot = await consumeN(topicOut, 1, `cc-smoke-outgroup-${run}`);
  if (outGot.join() !== 'transformed') throw new Error(`got ${JSON.stringify(outGot)}`);

  next('admin deleteTopics');
  await admin.deleteTopics({ topics: [topicA, topicTx, topicOut], timeout: 10000 });
  await admin.disconnect();

  next('done');
  clearTimeout(guard);
  if (process.env.SMOKE_VERBOSE)
    console.error(`timings:\n  ${timings.join('\n  ')}\nkafkajs log:\n  ${logLines.join('\n  ')}`);
  console.log(
    `kafka smoke: ok (brokers=${cluster.brokers.map((b) => `${b.host}:${b.port}`).join(',')}, ` +
      `createTopics, idempotent produce, group consume, transactions commit/abort, sendOffsets; ` +
      `${Date.now() - t0} ms; ${logLines.length} retried client error(s))`,
  );
  process.exit(0);
} catch (err) {
  if (logLines.length) console.error(`kafkajs log:\n  ${logLines.join('\n  ')}`);
  console.error(`kafka smoke: FAILED at step "${step}": ${err && err.stack ? err.stack : err}`);
  for (const c of clients) await c.disconnect().catch(() => {});
  process.exit(1);
}
