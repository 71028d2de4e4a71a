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
