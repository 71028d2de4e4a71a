/** Injection tokens of the service kit. */
export const LOGGER = Symbol('LOGGER');
export const SERVICE_CONFIG = Symbol('SERVICE_CONFIG');
export const METRICS_REGISTRY = Symbol('METRICS_REGISTRY');
export const VAULT_CLIENT = Symbol('VAULT_CLIENT');
