# The `vault` service: custody of each site's SEK (KV v2 under secret/sites/<site>/sek) and
# nothing else. It cannot read EMR credentials.
path "secret/data/sites/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/sites/*" {
  capabilities = ["read", "list", "delete"]
}
path "secret/delete/sites/*" {
  capabilities = ["update"]
}

# The key pair that signs admin access tokens (created once by the service, check-and-set).
path "secret/data/service/vault/*" {
  capabilities = ["create", "read", "update"]
}
