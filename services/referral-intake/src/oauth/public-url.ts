/** The public base URL of this service: configured, or as the request reached us (proxy-aware). */
export function publicBaseUrl(
  configured: string | undefined,
  request: { protocol: string; headers: Record<string, unknown> },
): string {
  if (configured) return configured.replace(/\/+$/, '');
  const host = typeof request.headers['host'] === 'string' ? request.headers['host'] : 'localhost';
  return `${request.protocol}://${host}`;
}
