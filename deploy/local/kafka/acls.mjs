#!/usr/bin/env node
// Writes the local broker's ACLs for the five services' SCRAM users (cc-<service>), through the
// super-user PLAINTEXT listener (deploy/local/stack.sh runs it after the broker is ready; it is
// idempotent: the broker keeps one copy of each binding). Each service may
//   - write the topics of the events it produces (libs/contracts EVENT_PRODUCERS) and the retry
//     and dead-letter topics (`<topic>.retry.*`, `<topic>.dlq`) of the topics it consumes,
//   - read the topics it consumes (with their retry tiers),
//   - create and describe its own topics, use consumer groups `<service>.*`, and the outbox
//     relay's checkpoint group/topic and transactional id (`outbox-relay.*`).
// Usage: node acls.mjs host:port   (exits 1 with the reason on stderr when the broker refuses)
import kafkajs from 'kafkajs';

const { AclOperationTypes, AclPermissionTypes, AclResourceTypes, Kafka, logLevel, ResourcePatternTypes } =
  kafkajs;

// Produced (literal write) and consumed (read) topics per service; keep in step with
// libs/contracts/src/events.ts (EVENT_PRODUCERS) and the services' registerConsumer topics.
export const SERVICE_TOPICS = {
  vault: {
    produces: ['site.registered', 'audit.recorded', 'notification.requested'],
    consumes: ['audit.recorded'],
  },
  'emr-gateway': {
    produces: [
      'emr.command',
      'sync.requested',
      'sync.completed',
      'notification.requested',
      'audit.recorded',
      'appointments.synced',
    ],
    consumes: ['site.registered', 'emr.command', 'referral.received', 'form.completed', 'sync.requested'],
  },
  'referral-intake': {
    produces: [
      'referral.received',
      'referral.status-changed',
      'appointment.changed',
      'form.completed',
      'audit.recorded',
    ],
    consumes: ['site.registered', 'appointments.synced', 'referral.received'],
  },
  scheduler: {
    produces: ['sync.requested', 'notification.requested', 'audit.recorded'],
    consumes: ['site.registered', 'appointment.changed', 'referral.status-changed'],
  },
  notifier: {
    produces: [],
    consumes: ['site.registered', 'notification.requested'],
  },
};

const CHECKPOINT_TOPIC = 'outbox.relay-checkpoints';

function allow(principal, resourceType, resourceName, pattern, operation) {
  return {
    resourceType,
    resourceName,
    resourcePatternType: pattern,
    principal,
    host: '*',
    operation,
    permissionType: AclPermissionTypes.ALLOW,
  };
}

export function aclsFor(service) {
  const p = `User:cc-${service}`;
  const { produces, consumes } = SERVICE_TOPICS[service];
  const { TOPIC, GROUP, TRANSACTIONAL_ID } = AclResourceTypes;
  const { LITERAL, PREFIXED } = ResourcePatternTypes;
  const { WRITE, READ, DESCRIBE, CREATE, DESCRIBE_CONFIGS } = AclOperationTypes;
  const acls = [];
  for (const topic of new Set([...produces, ...consumes])) {
    // Its topics are created at start-up when missing (with their retry and dead-letter topics).
    acls.push(allow(p, TOPIC, topic, PREFIXED, CREATE), allow(p, TOPIC, topic, PREFIXED, DESCRIBE));
    acls.push(allow(p, TOPIC, topic, PREFIXED, DESCRIBE_CONFIGS));
  }
  for (const topic of produces) acls.push(allow(p, TOPIC, topic, LITERAL, WRITE));
  for (const topic of consumes) {
    acls.push(allow(p, TOPIC, topic, PREFIXED, READ));
    acls.push(allow(p, TOPIC, `${topic}.`, PREFIXED, WRITE)); // its retry tiers and dead letters
  }
  acls.push(
    allow(p, GROUP, `${service}.`, PREFIXED, READ),
    allow(p, GROUP, `${service}.`, PREFIXED, DESCRIBE),
  );
  acls.push(
    allow(p, GROUP, 'outbox-relay.', PREFIXED, READ),
    allow(p, GROUP, 'outbox-relay.', PREFIXED, DESCRIBE),
  );
  acls.push(allow(p, TRANSACTIONAL_ID, 'outbox-relay.', PREFIXED, WRITE));
  acls.push(allow(p, TRANSACTIONAL_ID, 'outbox-relay.', PREFIXED, DESCRIBE));
  for (const op of [WRITE, READ, DESCRIBE, CREATE]) acls.push(allow(p, TOPIC, CHECKPOINT_TOPIC, LITERAL, op));
  return acls;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const brokers = (process.argv[2] || '127.0.0.1:59092').split(',');
  const kafka = new Kafka({ clientId: 'cloudconnect-stack-acls', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  const guard = setTimeout(() => {
    process.stderr.write('kafka acls: timed out\n');
    process.exit(1);
  }, 30000);
  try {
    await admin.connect();
    const acl = Object.keys(SERVICE_TOPICS).flatMap(aclsFor);
    await admin.createAcls({ acl });
    process.stdout.write(
      `${acl.length} ACL bindings for ${Object.keys(SERVICE_TOPICS).length} service users\n`,
    );
  } catch (err) {
    process.stderr.write(`kafka acls: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  } finally {
    await admin.disconnect().catch(() => {});
    clearTimeout(guard);
  }
}
