/**
 * OWASP's Argon2id baseline for the passwords and client secrets the services store: 19 MiB,
 * 2 iterations, 1 lane. Used as `{ type: argon2.argon2id, ...ARGON2ID_COST }` (argon2 itself is
 * loaded only by the services that hash).
 */
export const ARGON2ID_COST = { memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;
