export type SiteRole = 'admin' | 'member';

/** A person: a site admin (or member) signed in through the `vault` service's identity module. */
export interface AdminPrincipal {
  kind: 'admin';
  userId: string;
  email: string;
  /** Site number → role held there. */
  sites: Record<string, SiteRole>;
  /** When the person last proved their password (epoch seconds): for actions needing fresh auth. */
  authTime: number;
  /** The sign-in session this token belongs to (revocable: sign-out, password change). */
  sessionId: string;
  /** How the person signed in: `pwd` (password), `otp` (and a TOTP or recovery code). */
  amr: ('pwd' | 'otp')[];
}

/** Another Cloud Connect service calling with a short-lived service token. */
export interface ServicePrincipal {
  kind: 'service';
  service: string;
}

export type Principal = AdminPrincipal | ServicePrincipal;

/** Who did it, as written in audit entries. */
export function actorOf(principal: Principal): string {
  return principal.kind === 'admin' ? `user:${principal.userId}` : `service:${principal.service}`;
}
