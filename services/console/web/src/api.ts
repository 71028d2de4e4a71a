// The page's only way to the server: same-origin JSON calls, the CSRF token on every state change.
// The session itself is an HttpOnly cookie the page never sees.

import type { SessionView } from '../../src/session-view';

export type { SessionView };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken = '';
let onExpired: () => void = () => undefined;

export function setSessionView(view: SessionView | null): void {
  csrfToken = view?.csrfToken ?? '';
}

export function onSessionExpired(handler: () => void): void {
  onExpired = handler;
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new ApiError(0, 'offline', '');
  }
  const text = await response.text();
  let data: unknown = undefined;
  try {
    data = text ? (JSON.parse(text) as unknown) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const b = (data ?? {}) as { code?: unknown; message?: unknown; details?: unknown };
    const error = new ApiError(
      response.status,
      typeof b.code === 'string' ? b.code : 'error',
      typeof b.message === 'string' ? b.message : '',
      Array.isArray(b.details) ? b.details.filter((d): d is string => typeof d === 'string') : [],
    );
    if (response.status === 401 && error.code === 'session-expired' && !path.startsWith('/session'))
      onExpired();
    throw error;
  }
  return data as T;
}

export const api = {
  get: <T>(path: string): Promise<T> => request<T>('GET', `/api${path}`),
  post: <T>(path: string, body?: unknown): Promise<T> => request<T>('POST', `/api${path}`, body ?? {}),
  put: <T>(path: string, body?: unknown): Promise<T> => request<T>('PUT', `/api${path}`, body ?? {}),
  del: <T>(path: string): Promise<T> => request<T>('DELETE', `/api${path}`),
  session: (): Promise<SessionView> => request<SessionView>('GET', '/session'),
  signIn: (email: string, password: string, code?: string): Promise<SessionView> =>
    request<SessionView>('POST', '/session', { email, password, ...(code ? { code } : {}) }),
  reauthenticate: (password: string, code?: string): Promise<SessionView> =>
    request<SessionView>('POST', '/session/reauthenticate', { password, ...(code ? { code } : {}) }),
  signOut: (): Promise<undefined> => request<undefined>('DELETE', '/session'),
  forgotPassword: (email: string): Promise<unknown> =>
    request<unknown>('POST', '/session/password/forgot', { email }),
  setPassword: (token: string, password: string): Promise<{ email: string }> =>
    request<{ email: string }>('POST', '/session/password/reset', { token, password }),
  patch: <T>(path: string, body: unknown): Promise<T> => request<T>('PATCH', `/api${path}`, body),
};

export interface SiteAdmin {
  userId: string;
  email: string;
  role: 'admin' | 'member';
  status: 'active' | 'invited';
  grantedAt: string;
}

/** `field: message` details of a 400 answer, by field. */
export function fieldErrors(error: ApiError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const detail of error.details) {
    const [path, ...rest] = detail.split(': ');
    out[path ?? ''] = rest.join(': ');
  }
  return out;
}

// ---- what the admin API answers (the parts the console reads) ----------------------------------

export interface SiteRecord {
  siteNumber: string;
  name: string;
  locale: string;
  timezone: string;
  adminEmail: string;
  clinicalAdminEmail: string | null;
}

export interface ProviderProblem {
  providerId: string;
  providerName: string;
  missingPermissions: string[];
}

export interface EmrStatus {
  connection: {
    emrType: string | null;
    emrName: string | null;
    status: 'connected' | 'deauthorized' | 'disconnected' | 'not-configured';
    connectedAt: string | null;
    lastError: string | null;
  };
  sync: {
    state: 'idle' | 'syncing';
    lastScope?: string | null;
    lastStartedAt?: string | null;
    lastSuccessAt: string | null;
    lastError: string | null;
    nextDueAt: string | null;
    /** Read when the API gives them (the scheduler's next recent and next full sync). */
    nextRecentAt?: string | null;
    nextFullAt?: string | null;
    lastScheduledAt?: string | null;
    providerProblems: ProviderProblem[];
  };
  queue: { pending: number; oldestPendingAgeSeconds: number | null; deadLettered: number; held: boolean };
  settingsVersion: number;
}

export interface Provider {
  id: string;
  name: string;
}

export interface EmrSettings {
  scheduleDaysToSync: number;
  syncProviderIds: string[];
  markArrivedWithinHours: number;
  combineProgressNotes: boolean;
  importAttachmentsAsPdf: boolean;
  walkIn: { enabled: boolean; providerId: string | null; reason: string; durationMinutes: number };
}

export interface SettingsView {
  version: number;
  settings: EmrSettings;
  changedBy: string | null;
  changedAt: string | null;
}
