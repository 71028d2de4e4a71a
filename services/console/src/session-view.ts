/**
 * What the console's server tells its page about the session (GET /session): the admin token's
 * claims the page may see, never the token. Shared by the server and the web app.
 */
export interface SessionView {
  email: string;
  sites: Record<string, 'admin' | 'member'>;
  authTime: number;
  expiresAt: number;
  csrfToken: string;
}
