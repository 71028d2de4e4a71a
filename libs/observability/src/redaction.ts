/**
 * Fields never printed: secrets and PHI. pino's redaction works on paths, so each name is listed
 * at the top level, one level down and two levels down (request bodies, error contexts).
 */
export const SENSITIVE_FIELD_NAMES = [
  // secrets
  'password',
  'passwd',
  'secret',
  'clientSecret',
  'client_secret',
  'token',
  'accessToken',
  'access_token',
  'refreshToken',
  'apiKey',
  'api_key',
  'sek',
  'pin',
  'emrSecret',
  'privateKey',
  'authorization',
  'cookie',
  'unsealKey',
  'secretId',
  'secret_id',
  'key',
  'outboundKey',
  'client_assertion',
  'clientAssertion',
  'assertion',
  'plaintext',
  // PHI
  'patient',
  'given',
  'family',
  'birthDate',
  'dob',
  'healthCardNumber',
  'hcn',
  'telecom',
  'phone',
  'address',
  'note',
  'body',
  'content',
  'text',
  'payload',
  'bundle',
  'email',
] as const;

const SENSITIVE_HEADERS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-vault-token',
  'referral-integration-api-key',
  'x-api-key',
];

export function redactionPaths(extraHeaders: string[] = []): string[] {
  const paths: string[] = [];
  for (const name of SENSITIVE_FIELD_NAMES) {
    paths.push(name, `*.${name}`, `*.*.${name}`);
  }
  for (const header of [...SENSITIVE_HEADERS, ...extraHeaders.map((h) => h.toLowerCase())]) {
    paths.push(`req.headers["${header}"]`, `res.headers["${header}"]`);
  }
  return paths;
}

const SENSITIVE_NAMES = new Set<string>(SENSITIVE_FIELD_NAMES.map((name) => name.toLowerCase()));
/** Names that end like a secret are secrets wherever they appear (`outboundApiKey`, `vaultToken`). */
const SENSITIVE_SUFFIX = /(secret|password|passwd|token|apikey|api_key|privatekey|assertion|plaintext)$/i;
const MAX_DEPTH = 8;

function isSensitiveName(name: string): boolean {
  return SENSITIVE_NAMES.has(name.toLowerCase()) || SENSITIVE_SUFFIX.test(name);
}

/**
 * A copy of a log object with every sensitive field replaced at any depth (pino's own redaction
 * only reaches the listed paths, two levels down). Deeper than MAX_DEPTH is replaced whole.
 * Only plain objects and arrays are walked: class instances (errors, requests, buffers) are left
 * to pino's serializers and path redaction.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  const isArray = Array.isArray(value);
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!isArray && prototype !== Object.prototype && prototype !== null) return value;
  if (depth >= MAX_DEPTH) return '[redacted: too deep]';
  if (isArray) return (value as unknown[]).map((item) => redactDeep(item, depth + 1));
  const copy: Record<string, unknown> = {};
  for (const [name, field] of Object.entries(value as Record<string, unknown>)) {
    copy[name] = isSensitiveName(name) ? '[redacted]' : redactDeep(field, depth + 1);
  }
  return copy;
}
