import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT, type StackEnv } from './stack';

async function vaultApi(
  env: StackEnv,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await fetch(`${env.VAULT_ADDR}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': env.VAULT_TOKEN, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`vault ${method} ${path}: ${response.status}`);
  return response.status === 204 ? {} : ((await response.json()) as Record<string, unknown>);
}

/**
 * An AppRole bound to exactly one committed policy file (`deploy/vault/policies/<policy>.hcl`,
 * loaded from the file so a test proves the committed policy, not whatever a long-running stack
 * loaded), and the service env that logs in with it. `secretId` is returned so the caller can
 * check logs for it; `remove()` deletes the role.
 */
export async function appRoleFor(
  env: StackEnv,
  policy: string,
  role: string,
  /** Token lifetimes of the role (Vault duration strings); a test of token renewal makes them short. */
  lifetimes: { tokenTtl: string; tokenMaxTtl?: string } = { tokenTtl: '1h' },
): Promise<{ env: Record<string, string>; secretId: string; remove: () => Promise<void> }> {
  await vaultApi(env, 'PUT', `sys/policies/acl/${policy}`, {
    policy: readFileSync(join(REPO_ROOT, 'deploy', 'vault', 'policies', `${policy}.hcl`), 'utf8'),
  });
  await vaultApi(env, 'POST', `auth/approle/role/${role}`, {
    token_policies: [policy],
    token_ttl: lifetimes.tokenTtl,
    ...(lifetimes.tokenMaxTtl ? { token_max_ttl: lifetimes.tokenMaxTtl } : {}),
    secret_id_ttl: '2h',
  });
  const roleId = (await vaultApi(env, 'GET', `auth/approle/role/${role}/role-id`))['data'] as {
    role_id: string;
  };
  const secretId = (await vaultApi(env, 'POST', `auth/approle/role/${role}/secret-id`))['data'] as {
    secret_id: string;
  };
  return {
    env: { VAULT_AUTH_METHOD: 'approle', VAULT_ROLE_ID: roleId.role_id, VAULT_SECRET_ID: secretId.secret_id },
    secretId: secretId.secret_id,
    remove: async () => {
      await vaultApi(env, 'DELETE', `auth/approle/role/${role}`).catch(() => undefined);
    },
  };
}
