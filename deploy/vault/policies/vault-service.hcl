# The `vault` service: custody of each site's SEK (KV v2 under secret/sites/<site>/sek) and
# nothing else. It cannot read EMR credentials. Least privilege for what the code does: read any
# version (data), write new versions with check-and-set (create/update on data), read the current
# version (metadata read), soft-delete / undelete versions (a remove is recoverable during the
# recovery window) and destroy the removed versions (after the window, with a second admin's
# approval). No metadata delete (docs/security.md).
# The integration suite runs the service under an AppRole bound to exactly this policy.
path "secret/data/sites/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/sites/*" {
  capabilities = ["read"]
}
path "secret/delete/sites/*" {
  capabilities = ["update"]
}
path "secret/undelete/sites/*" {
  capabilities = ["update"]
}
path "secret/destroy/sites/*" {
  capabilities = ["update"]
}

# The key pair that signs admin access tokens (created once by the service, check-and-set).
path "secret/data/service/vault/*" {
  capabilities = ["create", "read", "update"]
}

# The audit trail (docs/security.md "The audit trail"): the chains' HMAC key, provisioned by the
# installer, read only (the service can neither replace nor remove it); each site's chain anchor,
# written with check-and-set (no delete, no destroy, no metadata writes: earlier anchor versions
# stay in Vault's history).
path "secret/data/audit/hmac-key" {
  capabilities = ["read"]
}
path "secret/data/audit/chains/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/audit/chains/*" {
  capabilities = ["read", "list"]
}
