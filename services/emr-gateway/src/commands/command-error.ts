import { DomainError, type ErrorKind } from '@cloud-connect/errors';

export type CommandErrorCode =
  | 'invalid-site'
  | 'invalid-command-id'
  | 'invalid-patient-id'
  | 'invalid-scope'
  | 'not-found'
  | 'not-held'
  | 'not-dead-lettered';

/** Errors of the EMR command queue's admin actions (inspect, release, replay, sync now). */
export class CommandError extends DomainError<CommandErrorCode> {
  readonly domain = 'commands';

  get kind(): ErrorKind {
    switch (this.code) {
      case 'invalid-site':
      case 'invalid-command-id':
      case 'invalid-patient-id':
      case 'invalid-scope':
        return 'invalid';
      case 'not-found':
      case 'not-held':
      case 'not-dead-lettered':
        return 'not-found';
    }
  }
}
