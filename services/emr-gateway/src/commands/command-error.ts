import { domainErrorClass } from '@cloud-connect/errors';

export type CommandErrorCode =
  | 'invalid-site'
  | 'invalid-command-id'
  | 'invalid-patient-id'
  | 'invalid-scope'
  | 'not-found'
  | 'not-held'
  | 'not-dead-lettered';

/** Errors of the EMR command queue's admin actions (inspect, release, replay, sync now). */
export class CommandError extends domainErrorClass<CommandErrorCode>('commands', {
  'invalid-site': 'invalid',
  'invalid-command-id': 'invalid',
  'invalid-patient-id': 'invalid',
  'invalid-scope': 'invalid',
  'not-found': 'not-found',
  'not-held': 'not-found',
  'not-dead-lettered': 'not-found',
}) {}
