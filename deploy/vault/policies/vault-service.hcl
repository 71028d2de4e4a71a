# The `vault` service: custody of each site's SEK (KV v2 under secret/sites/<site>/sek) and
# nothing else. It cannot read EMR credentials. Least privilege for what the code does: read any
# version (data), write new versions with check-and-set (create/update on data), read the current
# version and remove a SEK with all its versions (metadata read/delete: the destroy step, after the
# recovery window and a second admin's approval), and soft-delete / undelete versions (a remove is
# recoverable during the window). No destroy of single versions (docs/security.md).
# The integration suite runs the service under an AppRole bound to exactly this policy.
path "secret/data/sites/*" {
  capabilities = ["create", "read", "update"]
}
path "secret/metadata/sites/*" {
  capabilities = ["read", "delete"]
}
path "secret/delete/sites/*" {
  capabilities = ["update"]
}
path "secret/undelete/sites/*" {
  capabilities = ["update"]
}

# The key pair that signs admin access tokens (created once by the service, check-and-set).
path "secret/data/service/vault/*" {
  capabilities = ["create", "read", "update"]
}
