import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';

/**
 * Refuses weak and breached passwords with zxcvbn-ts (Dropbox's estimator, ported to TypeScript),
 * offline: its bundled common-language package holds lists of the most common and most leaked
 * passwords, names and keyboard patterns. Score 0–4; Cloud Connect asks for 3 (safely
 * unguessable: about 10^8 guesses or more), on top of the 12-character minimum.
 */
const MIN_SCORE = 3;

let factory: ZxcvbnFactory | undefined;

export const WEAK_PASSWORD_MESSAGE =
  'this password is too easy to guess or appears in lists of breached passwords; choose a longer, less common one (a few unrelated words work well) / ' +
  'ce mot de passe est trop facile à deviner ou figure dans des listes de mots de passe divulgués ; choisissez-en un plus long et moins courant (quelques mots sans lien entre eux conviennent bien)';

/** True when the password is too weak; `related` are words of the account (its e-mail) it must not lean on. */
export function isWeakPassword(password: string, related: string[] = []): boolean {
  factory ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  const words = related.flatMap((r) => r.toLowerCase().split(/[^a-z0-9]+/)).filter((w) => w.length >= 3);
  return factory.check(password.slice(0, 100), words).score < MIN_SCORE;
}
