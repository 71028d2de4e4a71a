#!/usr/bin/env node
// Writes the local broker's ACLs for the five services' SCRAM users (cc-<service>), through the
// super-user PLAINTEXT listener (deploy/local/stack.sh runs it after the broker is ready; it is
// idempotent: the broker keeps one copy of each binding, and bindings of the service users that
// the matrix no longer holds are removed). Each service may
//   - write the topics of the events it produces (libs/contracts EVENT_PRODUCERS) and the retry
//     and dead-letter topics (`<topic>.retry.*`, `<topic>.dlq`) of the topics it consumes,
//   - read the topics it consumes (with their retry tiers),
//   - create and describe its own topics, use consumer groups and transactional ids
//     `<service>.*` (its outbox relay's are `<service>.outbox-relay.<schema>`), and the relay's
//     checkpoint topic (it holds no messages: a relay's checkpoint is its group's offset on it).
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
  acls.push(allow(p, TRANSACTIONAL_ID, `${service}.`, PREFIXED, WRITE));
  acls.push(allow(p, TRANSACTIONAL_ID, `${service}.`, PREFIXED, DESCRIBE));
  for (const op of [WRITE, READ, DESCRIBE, CREATE]) acls.push(allow(p, TOPIC, CHECKPOINT_TOPIC, LITERAL, op));
  return acls;
}

/**
 * The bindings of the service users that the matrix no longer holds (a broker kept from an older
 * version of this file), as exact filters: an ACL only ever added would keep a right the matrix
 * has taken away.
 */
async function staleBindings(admin, wanted) {
  const { ANY } = AclResourceTypes;
  const keyOf = (b) =>
    [
      b.resourceType,
      b.resourceName,
      b.resourcePatternType,
      b.principal,
      b.host,
      b.operation,
      b.permissionType,
    ].join('|');
  const keep = new Set(wanted.map(keyOf));
  const principals = new Set(wanted.map((b) => b.principal));
  const { resources } = await admin.describeAcls({
    resourceType: ANY,
    resourcePatternType: ResourcePatternTypes.ANY,
    operation: AclOperationTypes.ANY,
    permissionType: AclPermissionTypes.ANY,
  });
  const stale = [];
  for (const r of resources) {
    for (const a of r.acls) {
      const binding = {
        resourceType: r.resourceType,
        resourceName: r.resourceName,
        resourcePatternType: r.resourcePatternType,
        principal: a.principal,
        host: a.host,
        operation: a.operation,
        permissionType: a.permissionType,
      };
      if (principals.has(a.principal) && !keep.has(keyOf(binding))) stale.push(binding);
    }
  }
  return stale;
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
    const stale = await staleBindings(admin, acl);
    if (stale.length > 0) await admin.deleteAcls({ filters: stale });
    await admin.createAcls({ acl });
    process.stdout.write(
      `${acl.length} ACL bindings for ${Object.keys(SERVICE_TOPICS).length} service users` +
        (stale.length > 0 ? `; ${stale.length} no longer in the matrix removed` : '') +
        '\n',
    );
  } catch (err) {
    process.stderr.write(`kafka acls: ${err && err.message ? err.message : err}\n`);
    process.exitCode = 1;
  } finally {
    await admin.disconnect().catch(() => {});
    clearTimeout(guard);
  }
}
