// What a failed call says to the person: each screen names the codes it explains, in a table.
import { ApiError } from './api';
import type { MessageId, Translate } from './i18n';

/** A screen's messages for the codes of the API's answers it explains. */
export type CodeMessages = Readonly<Partial<Record<string, MessageId>>>;

/** The codes of a sign-in (the password, then the authenticator app's code). */
export const SIGN_IN_CODES: CodeMessages = {
  'invalid-credentials': 'signIn.error.invalid',
  'code-required': 'signIn.error.codeRequired',
  'invalid-code': 'signIn.error.code',
};

/** The server could not be reached at all. */
export const OFFLINE_CODES: CodeMessages = { offline: 'common.error.offline' };

/** The screen's message for the failure's code, if it has one. */
export function codeMessage(e: unknown, byCode: CodeMessages): MessageId | undefined {
  return e instanceof ApiError ? byCode[e.code] : undefined;
}

/** The screen's message for the failure's code, else `fallback`. */
export function messageFor(
  e: unknown,
  byCode: CodeMessages,
  fallback: MessageId = 'common.error.generic',
): MessageId {
  return codeMessage(e, byCode) ?? fallback;
}

/** The server's own words for a failure when it gave some, else the generic message. */
export function failureText(e: unknown, t: Translate): string {
  return e instanceof ApiError && e.message ? e.message : t('common.error.generic');
}
