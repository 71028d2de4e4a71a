import { retryTopicsOf } from '@cloud-connect/kafka';

/**
 * Every Kafka topic the product uses, with its partition count. Topics are created explicitly at
 * start-up by the services that use them (auto-creation is off on our brokers). Key = site number.
 */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Broker-side topic config (retention, compaction). */
  config?: Record<string, string>;
}

const WEEK_MS = String(7 * 24 * 3600 * 1000);
const MONTH_MS = String(30 * 24 * 3600 * 1000);

function withRetryAndDlq(name: string, partitions: number): TopicSpec[] {
  return [
    { name, partitions, config: { 'retention.ms': WEEK_MS } },
    ...retryTopicsOf(name).map((retry) => ({ name: retry, partitions, config: { 'retention.ms': WEEK_MS } })),
    // Dead letters wait for an operator: keep them long.
    { name: `${name}.dlq`, partitions: 1, config: { 'retention.ms': MONTH_MS } },
  ];
}

export const Topics = {
  siteRegistered: 'site.registered',
  referralReceived: 'referral.received',
  referralStatusChanged: 'referral.status-changed',
  appointmentChanged: 'appointment.changed',
  emrCommand: 'emr.command',
  syncRequested: 'sync.requested',
  syncCompleted: 'sync.completed',
  notificationRequested: 'notification.requested',
  auditRecorded: 'audit.recorded',
  formCompleted: 'form.completed',
  appointmentsSynced: 'appointments.synced',
} as const;

export type TopicName = (typeof Topics)[keyof typeof Topics];

export const TOPIC_SPECS: readonly TopicSpec[] = [
  ...withRetryAndDlq(Topics.siteRegistered, 3),
  ...withRetryAndDlq(Topics.referralReceived, 6),
  ...withRetryAndDlq(Topics.referralStatusChanged, 6),
  ...withRetryAndDlq(Topics.appointmentChanged, 6),
  ...withRetryAndDlq(Topics.emrCommand, 6),
  ...withRetryAndDlq(Topics.syncRequested, 6),
  ...withRetryAndDlq(Topics.syncCompleted, 6),
  ...withRetryAndDlq(Topics.notificationRequested, 6),
  ...withRetryAndDlq(Topics.auditRecorded, 3),
  ...withRetryAndDlq(Topics.formCompleted, 6),
  ...withRetryAndDlq(Topics.appointmentsSynced, 6),
];

export function topicSpecsFor(names: readonly string[]): TopicSpec[] {
  return TOPIC_SPECS.filter((spec) => names.some((n) => spec.name === n || spec.name.startsWith(`${n}.`)));
}
