{{/*
Naming, labels and the per-service values every template shares.
Templates iterate over .Values.services; each call passes a context
  (dict "root" $ "name" <service name> "svc" <service values>)
built by "cc.ctx".
*/}}

{{- define "cc.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/* "<release>-<chart>", or the release name alone when it already contains the chart name. */}}
{{- define "cc.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cc.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Name of a service's objects: "<fullname>-<service>" (at most 40 + 1 + 15 characters). */}}
{{- define "cc.component" -}}
{{- printf "%s-%s" (include "cc.fullname" .root) .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select every pod of the release. */}}
{{- define "cc.releaseSelectorLabels" -}}
app.kubernetes.io/name: {{ include "cc.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels that select one service's pods. */}}
{{- define "cc.selectorLabels" -}}
{{ include "cc.releaseSelectorLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "cc.releaseLabels" -}}
{{ include "cc.releaseSelectorLabels" . }}
app.kubernetes.io/part-of: cloud-connect
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "cc.chart" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cc.labels" -}}
{{ include "cc.releaseLabels" .root }}
app.kubernetes.io/component: {{ .name }}
{{- end -}}

{{- define "cc.serviceAccountName" -}}
{{- default (include "cc.component" .) .svc.serviceAccount.name -}}
{{- end -}}

{{- define "cc.image" -}}
{{- $img := .root.Values.image -}}
{{- $svcImg := .svc.image | default dict -}}
{{- $repo := $svcImg.repository | default (printf "%s/%s" $img.repositoryPrefix .name) -}}
{{- if $img.registry }}{{ $repo = printf "%s/%s" $img.registry $repo }}{{ end -}}
{{- $digest := $svcImg.digest | default $img.digest -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo ($svcImg.tag | default $img.tag | default .root.Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* "true" when the service logs in to Vault with its ServiceAccount token. */}}
{{- define "cc.vaultKubernetesAuth" -}}
{{- if and .svc.vault.enabled (eq .root.Values.externals.vaultAuth.method "kubernetes") -}}true{{- end -}}
{{- end -}}

{{/* "https" when the services serve HTTPS inside the cluster (tls.internal.enabled), else "http". */}}
{{- define "cc.scheme" -}}
{{- ternary "https" "http" .Values.tls.internal.enabled -}}
{{- end -}}

{{/* A service's Secret with its certificate and key (type kubernetes.io/tls). */}}
{{- define "cc.tlsSecretName" -}}
{{- printf .root.Values.tls.internal.secretName .name -}}
{{- end -}}

{{/* Non-secret environment of a service, as ConfigMap data (sorted, all strings). */}}
{{- define "cc.configData" -}}
{{- $v := .root.Values -}}
{{- $env := dict -}}
{{- $_ := set $env "NODE_ENV" $v.config.nodeEnv -}}
{{- $_ := set $env "LOG_LEVEL" $v.config.logLevel -}}
{{- $_ := set $env "PORT" (toString .svc.port) -}}
{{- $_ := set $env "DATABASE_SCHEMA" .svc.databaseSchema -}}
{{- $_ := set $env "KAFKA_BROKERS" (join "," $v.externals.kafkaBrokers) -}}
{{- $_ := set $env "KAFKA_CLIENT_ID" (.svc.kafkaClientId | default .name) -}}
{{- $_ := set $env "KAFKA_TOPIC_REPLICATION_FACTOR" (toString $v.kafka.topics.replicationFactor) -}}
{{- $_ := set $env "KAFKA_TOPIC_MIN_INSYNC_REPLICAS" (toString $v.kafka.topics.minInsyncReplicas) -}}
{{- if include "cc.caBundleName" .root -}}
{{- $_ := set $env "NODE_EXTRA_CA_CERTS" (printf "/etc/cloud-connect/ca/%s" $v.caBundle.key) -}}
{{- end -}}
{{- if $v.tls.internal.enabled -}}
{{- $_ := set $env "TLS_CERT_FILE" "/etc/cloud-connect/tls/tls.crt" -}}
{{- $_ := set $env "TLS_KEY_FILE" "/etc/cloud-connect/tls/tls.key" -}}
{{- end -}}
{{- if ne .name "console" -}}
{{- with $v.postgres.sslMode -}}
{{- $_ := set $env "DATABASE_SSL_MODE" . -}}
{{- end -}}
{{- if $v.kafka.tls.enabled -}}
{{- $_ := set $env "KAFKA_TLS" "true" -}}
{{- end -}}
{{- if $v.kafka.sasl.enabled -}}
{{- $_ := set $env "KAFKA_SASL_MECHANISM" $v.kafka.sasl.mechanism -}}
{{- $_ := set $env "KAFKA_SASL_USERNAME" (printf $v.kafka.sasl.username .name) -}}
{{- $_ := set $env "KAFKA_SASL_PASSWORD_FILE" (printf "/etc/cloud-connect/kafka-sasl/%s" $v.kafka.sasl.passwordSecretKey) -}}
{{- end -}}
{{- end -}}
{{- if ne .name "console" -}}
{{- /* Its own signing key and the services' public keys, mounted from a Secret and a ConfigMap. */ -}}
{{- $_ := set $env "SERVICE_SIGNING_KEY_FILE" (printf "/etc/cloud-connect/service-key/%s" $v.serviceIdentity.signingKeySecretKey) -}}
{{- $_ := set $env "SERVICE_PUBLIC_KEYS_FILE" (printf "/etc/cloud-connect/service-public-keys/%s" $v.serviceIdentity.publicKeys.key) -}}
{{- end -}}
{{- if ne .name "vault" -}}
{{- /* Site admins' tokens are signed by the vault service; the others verify them with its JWKS. */ -}}
{{- $vaultSvc := get $v.services "vault" -}}
{{- $vaultCtx := dict "root" .root "name" "vault" "svc" $vaultSvc -}}
{{- $scheme := include "cc.scheme" .root -}}
{{- $_ := set $env "ADMIN_JWKS_URL" (printf "%s://%s:%v/.well-known/jwks.json" $scheme (include "cc.component" $vaultCtx) $vaultSvc.port) -}}
{{- if has .name (list "referral-intake" "emr-gateway") -}}
{{- /* PHI is encrypted by the vault service's envelope encryption under each site's SEK. */ -}}
{{- $_ := set $env "VAULT_SERVICE_URL" (printf "%s://%s:%v" $scheme (include "cc.component" $vaultCtx) $vaultSvc.port) -}}
{{- end -}}
{{- if eq .name "console" -}}
{{- /* The console forwards the admin API to the services that answer it. */ -}}
{{- $_ := set $env "VAULT_SERVICE_URL" (printf "%s://%s:%v" $scheme (include "cc.component" $vaultCtx) $vaultSvc.port) -}}
{{- range $upstream, $var := dict "emr-gateway" "EMR_GATEWAY_URL" "referral-intake" "REFERRAL_INTAKE_URL" -}}
{{- $upSvc := get $v.services $upstream -}}
{{- $_ := set $env $var (printf "%s://%s:%v" $scheme (include "cc.component" (dict "root" $.root "name" $upstream "svc" $upSvc)) $upSvc.port) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if .svc.vault.enabled -}}
{{- $_ := set $env "VAULT_ADDR" $v.externals.vaultAddr -}}
{{- $_ := set $env "VAULT_AUTH_METHOD" $v.externals.vaultAuth.method -}}
{{- if eq $v.externals.vaultAuth.method "kubernetes" -}}
{{- $_ := set $env "VAULT_K8S_ROLE" (required (printf "services.%s.vault.role is required when externals.vaultAuth.method is kubernetes" .name) .svc.vault.role) -}}
{{- end -}}
{{- end -}}
{{- with $v.config.otelExporterOtlpEndpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- $_ := set $env "OTEL_SERVICE_NAME" $.name -}}
{{- end -}}
{{- with .svc.smtp -}}
{{- $_ := set $env "SMTP_HOST" .host -}}
{{- $_ := set $env "SMTP_PORT" (toString .port) -}}
{{- $_ := set $env "SMTP_SECURE" (toString (.secure | default false)) -}}
{{- $_ := set $env "SMTP_REQUIRE_TLS" (toString (ne (toString .requireTLS) "false")) -}}
{{- $_ := set $env "SMTP_FROM" (get . "from") -}}
{{- end -}}
{{- with .svc.smsApiUrl -}}
{{- $_ := set $env "SMS_API_URL" . -}}
{{- end -}}
{{- range $k, $val := $v.config.env -}}
{{- $_ := set $env $k (toString $val) -}}
{{- end -}}
{{- range $k, $val := .svc.env -}}
{{- $_ := set $env $k (toString $val) -}}
{{- end -}}
{{- range $k, $val := $env }}
{{ $k }}: {{ $val | quote }}
{{- end -}}
{{- end -}}

{{/* Environment variables read from Secrets. */}}
{{- define "cc.secretEnv" -}}
{{- $v := .root.Values -}}
{{- $db := .svc.databaseUrlSecret | default $v.externals.databaseUrlSecret -}}
{{- if ne .name "console" }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $db.name }}
      key: {{ $db.key }}
- name: SERVICE_AUTH_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $v.serviceAuth.secret.name }}
      key: {{ $v.serviceAuth.secret.key }}
{{- with $v.externals.databaseMigrationUrlSecret }}
{{- if .name }}
- name: DATABASE_MIGRATION_URL
  valueFrom:
    secretKeyRef:
      name: {{ .name }}
      key: {{ .key }}
{{- end }}
{{- end }}
{{- end }}
{{- range $envName, $ref := .svc.secretEnv }}
- name: {{ $envName }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.name }}
      key: {{ $ref.key }}
{{- end }}
{{- if .svc.vault.enabled }}
{{- if eq $v.externals.vaultAuth.method "token" }}
{{- $t := required "externals.vaultAuth.tokenSecret is required when externals.vaultAuth.method is token" $v.externals.vaultAuth.tokenSecret }}
- name: VAULT_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $t.name }}
      key: {{ $t.key }}
{{- else if eq $v.externals.vaultAuth.method "approle" }}
{{- $a := .svc.vault.approleSecret | default $v.externals.vaultAuth.approleSecret }}
{{- $a = required "externals.vaultAuth.approleSecret is required when externals.vaultAuth.method is approle" $a }}
- name: VAULT_ROLE_ID
  valueFrom:
    secretKeyRef:
      name: {{ $a.name }}
      key: {{ $a.roleIdKey }}
- name: VAULT_SECRET_ID
  valueFrom:
    secretKeyRef:
      name: {{ $a.name }}
      key: {{ $a.secretIdKey }}
{{- end }}
{{- end }}
{{- with .svc.smtp }}
{{- $auth := .authSecret | default dict }}
{{- if $auth.name }}
- name: SMTP_USER
  valueFrom:
    secretKeyRef:
      name: {{ $auth.name }}
      key: {{ $auth.userKey | default "SMTP_USER" }}
- name: SMTP_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.name }}
      key: {{ $auth.passwordKey | default "SMTP_PASSWORD" }}
{{- end }}
{{- end }}
{{- end -}}


{{/* The image the helm test pods and the bootstrap Job run (a service image: it has Node). */}}
{{- define "cc.toolImage" -}}
{{- $name := .Values.tests.imageFrom -}}
{{- $svc := get .Values.services $name -}}
{{- include "cc.image" (dict "root" . "name" $name "svc" $svc) -}}
{{- end -}}

{{/* Volumes of a service's pods: /tmp, the CA bundle, then the extra ones. */}}
{{- define "cc.volumes" -}}
- name: tmp
  emptyDir:
    {{- with .root.Values.tmpVolume.medium }}
    medium: {{ . }}
    {{- end }}
    sizeLimit: {{ .root.Values.tmpVolume.sizeLimit }}
{{- with include "cc.caBundleName" .root }}
- name: ca-bundle
  configMap:
    name: {{ . }}
{{- end }}
{{- if .root.Values.tls.internal.enabled }}
- name: tls
  secret:
    secretName: {{ include "cc.tlsSecretName" . }}
    defaultMode: 0440
    items:
      - key: tls.crt
        path: tls.crt
      - key: tls.key
        path: tls.key
{{- end }}
{{- if and (ne .name "console") .root.Values.kafka.sasl.enabled }}
{{- $sasl := .root.Values.kafka.sasl }}
- name: kafka-sasl
  secret:
    secretName: {{ printf $sasl.passwordSecretName .name }}
    defaultMode: 0440
    items:
      - key: {{ $sasl.passwordSecretKey }}
        path: {{ $sasl.passwordSecretKey }}
{{- end }}
{{- if ne .name "console" }}
{{- $id := .root.Values.serviceIdentity }}
- name: service-key
  secret:
    secretName: {{ printf $id.signingKeySecretName .name }}
    defaultMode: 0400
    items:
      - key: {{ $id.signingKeySecretKey }}
        path: {{ $id.signingKeySecretKey }}
- name: service-public-keys
  secret:
    secretName: {{ $id.publicKeys.secretName }}
    items:
      - key: {{ $id.publicKeys.key }}
        path: {{ $id.publicKeys.key }}
{{- end }}
{{- with concat (.root.Values.extraVolumes | default list) (.svc.extraVolumes | default list) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "cc.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- if include "cc.caBundleName" .root }}
- name: ca-bundle
  mountPath: /etc/cloud-connect/ca
  readOnly: true
{{- end }}
{{- if .root.Values.tls.internal.enabled }}
- name: tls
  mountPath: /etc/cloud-connect/tls
  readOnly: true
{{- end }}
{{- if and (ne .name "console") .root.Values.kafka.sasl.enabled }}
- name: kafka-sasl
  mountPath: /etc/cloud-connect/kafka-sasl
  readOnly: true
{{- end }}
{{- if ne .name "console" }}
- name: service-key
  mountPath: /etc/cloud-connect/service-key
  readOnly: true
- name: service-public-keys
  mountPath: /etc/cloud-connect/service-public-keys
  readOnly: true
{{- end }}
{{- with concat (.root.Values.extraVolumeMounts | default list) (.svc.extraVolumeMounts | default list) }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The ConfigMap with the CA bundle: the chart's own (caBundle.pem) or an existing one; "" if none. */}}
{{- define "cc.caBundleName" -}}
{{- if .Values.caBundle.pem -}}
{{- printf "%s-ca-bundle" (include "cc.fullname" .) -}}
{{- else -}}
{{- .Values.caBundle.configMapName -}}
{{- end -}}
{{- end -}}
