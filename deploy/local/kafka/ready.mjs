#!/usr/bin/env node
// One readiness probe of the local Kafka broker (used by deploy/local/stack.sh in a bounded loop):
// exits 0 when a kafkajs admin client can connect and describeCluster lists at least one broker,
// 1 otherwise. Usage: node ready.mjs [host:port[,host:port]]  (default $KAFKA_BROKERS or 127.0.0.1:59092)
import { Kafka, logLevel } from 'kafkajs';

const brokers = (process.argv[2] || process.env.KAFKA_BROKERS || '127.0.0.1:59092').split(',');
const kafka = new Kafka({
  clientId: 'cloudconnect-stack-ready',
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 2000,
  requestTimeout: 4000,
  retry: { retries: 0 },
});
const admin = kafka.admin();
const guard = setTimeout(() => process.exit(1), 8000);
try {
  await admin.connect();
  const cluster = await admin.describeCluster();
  if (!cluster.brokers.length) throw new Error('no brokers in metadata');
  process.stdout.write(JSON.stringify(cluster) + '\n');
  process.exitCode = 0;
} catch (err) {
  process.stderr.write(`kafka not ready: ${err && err.message ? err.message : err}\n`);
  process.exitCode = 1;
} finally {
  await admin.disconnect().catch(() => {});
  clearTimeout(guard);
}
