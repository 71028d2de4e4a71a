import { useCallback, useEffect, useState } from 'react';
import { ApiError, fieldErrors } from './api';
import type { MessageId, Translate } from './i18n';
import { failureText } from './problems';

/** A secret an action issued, to be shown once: its value and what it is (a message and its values). */
export interface IssuedSecret {
  value: string;
  label: MessageId;
  values: Record<string, string>;
}

/**
 * A screen's actions on the admin API: each clears the last failure; one that needs a recent
 * sign-in waits for it (`freshSignIn`) and runs again; a refused one leaves its field errors (by
 * `fieldOf` the detail's path) and its failure in words; a secret one issued is kept to be shown once.
 */
export function useAdminActions(t: Translate, fieldOf: (path: string) => string = (path) => path) {
  const [failure, setFailure] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [retry, setRetry] = useState<(() => void) | null>(null);
  const [secret, setSecret] = useState<IssuedSecret | null>(null);

  const act = async (work: () => Promise<void>): Promise<void> => {
    setFailure(null);
    try {
      await work();
    } catch (e) {
      if (e instanceof ApiError && e.code === 'reauthentication-required') {
        setRetry(() => () => void act(work));
        return;
      }
      if (e instanceof ApiError && e.details.length > 0) {
        const found: Record<string, string> = {};
        for (const [path, message] of Object.entries(fieldErrors(e))) found[fieldOf(path)] = message;
        setErrors(found);
      }
      setFailure(failureText(e, t));
    }
  };

  return {
    act,
    failure,
    setFailure,
    errors,
    setErrors,
    freshSignIn: { retry, clear: () => setRetry(null) },
    secret,
    /** Shows a secret the action issued (none where the answer carries none). */
    showSecret: (value: string | undefined, label: MessageId, values: Record<string, string>) => {
      if (value) setSecret({ value, label, values });
    },
    dismissSecret: () => setSecret(null),
  };
}

export type AdminActions = ReturnType<typeof useAdminActions>;

/** The rows a screen lists (`fetchRows`, again whenever `deps` change): loaded now, and again on `reload()`. */
export function useListed<T>(
  fetchRows: () => Promise<T[]>,
  deps: unknown[],
  t: Translate,
  setFailure: (failure: string) => void,
): { rows: T[] | null; reload: () => void } {
  const [rows, setRows] = useState<T[] | null>(null);
  const reload = useCallback(() => {
    fetchRows().then(setRows, (e: unknown) => setFailure(failureText(e, t)));
  }, [...deps, t]);
  useEffect(reload, [reload]);
  return { rows, reload };
}

type TextKeys<F> = { [K in keyof F]: F[K] extends string ? K : never }[keyof F] & string;

/**
 * A text field of a form kept as one object: its label and help (message ids), its value, its
 * error and what typing does.
 */
export function textField<F extends object>(
  t: Translate,
  form: F,
  setForm: (next: F) => void,
  errorOf: (name: TextKeys<F>) => string | undefined,
) {
  return (name: TextKeys<F>, label: MessageId, help?: MessageId) => ({
    label: t(label),
    description: help && t(help),
    value: form[name] as string,
    error: errorOf(name),
    onChange: (e: { currentTarget: { value: string } }) =>
      setForm({ ...form, [name]: e.currentTarget.value }),
  });
}
