# The `emr-gateway` service: each site's EMR connection credentials under
# secret/emr-connections/<site>. It cannot read any SEK.
path "secret/data/emr-connections/*" {
  capabilities = ["create", "read", "update", "delete"]
}
path "secret/metadata/emr-connections/*" {
  capabilities = ["read", "list", "delete"]
}
