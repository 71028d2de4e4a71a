# The `referral-intake` service: its own service secrets only — the key that seals the private
# halves of its OAuth access-token signing keys (KV v2 under secret/service/referral-intake/,
# created once with check-and-set). It cannot read any SEK (PHI goes through the vault service's
# envelope encryption), EMR credentials, or another service's keys.
path "secret/data/service/referral-intake/*" {
  capabilities = ["create", "read", "update"]
}
