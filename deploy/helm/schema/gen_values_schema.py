#!/usr/bin/env python3
"""Writes ../cloud-connect/values.schema.json (JSON Schema, draft-07) for the chart's values.

The schema is generated so that each of the five services can be a closed object (unknown keys
rejected with a clear path) without five hand-kept copies of the shared service properties.
Edit this file, then run:  python3 deploy/helm/schema/gen_values_schema.py
deploy/validate.sh fails when the committed schema differs from this script's output.
"""
import collections
import json
import os
import sys

O = collections.OrderedDict

def obj(props, required=None, extra=False, desc=None):
    s = O()
    if desc: s["description"] = desc
    s["type"] = "object"
    s["additionalProperties"] = extra
    if required: s["required"] = required
    s["properties"] = props
    return s

ref = lambda n: {"$ref": "#/definitions/" + n}
string = {"type": "string"}
boolean = {"type": "boolean"}

defs = O()
defs["dnsLabel"] = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", "maxLength": 63}
defs["dnsSubdomain"] = {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", "maxLength": 253}
defs["secretKey"] = {"type": "string", "pattern": "^[-._a-zA-Z0-9]+$", "maxLength": 253}
defs["secretRef"] = obj(O(name=ref("dnsSubdomain"), key=ref("secretKey")), ["name", "key"],
                        desc="A key of an existing Kubernetes Secret.")
defs["stringMap"] = {"type": "object", "additionalProperties": {"type": "string"}}
defs["envMap"] = {"type": "object", "description": "Environment variables NAME: value (non-secret).",
                  "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                  "additionalProperties": {"type": ["string", "number", "boolean"]}}
defs["k8sObject"] = {"type": "object", "description": "Passed through to Kubernetes as is."}
defs["k8sList"] = {"type": "array", "items": {"type": "object"}, "description": "Passed through to Kubernetes as is."}
defs["digest"] = {"type": "string", "pattern": "^(sha256:[a-f0-9]{64})?$"}
defs["quantity"] = {"type": ["string", "number"], "pattern": "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|e[0-9]+)?$"}
rl = obj(O([("cpu", ref("quantity")), ("memory", ref("quantity")), ("ephemeral-storage", ref("quantity"))]))
defs["resources"] = obj(O(requests=rl, limits=rl), ["requests", "limits"])
defs["intOrPercent"] = {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": "^[0-9]+%$"}]}
defs["peer"] = obj(O(podSelector=ref("k8sObject"), namespaceSelector=ref("k8sObject"), ipBlock=ref("k8sObject")),
                   desc="A NetworkPolicyPeer.")
defs["npPort"] = obj(O(port={"type": ["integer", "string"]}, endPort={"type": "integer"},
                       protocol={"enum": ["TCP", "UDP", "SCTP"]}), ["port"])
defs["egressRule"] = obj(O(to={"type": "array", "items": ref("peer")}, ports={"type": "array", "items": ref("npPort")}),
                         desc="A NetworkPolicyEgressRule.")
defs["peers"] = {"type": "array", "items": ref("peer")}
defs["probe"] = obj(O(initialDelaySeconds={"type": "integer", "minimum": 0}, periodSeconds={"type": "integer", "minimum": 1},
                      timeoutSeconds={"type": "integer", "minimum": 1}, failureThreshold={"type": "integer", "minimum": 1}))
defs["autoscaling"] = obj(O(
    enabled=boolean,
    minReplicas={"type": "integer", "minimum": 1},
    maxReplicas={"type": "integer", "minimum": 1},
    targetCPUUtilizationPercentage={"type": "integer", "minimum": 1, "maximum": 100},
    targetMemoryUtilizationPercentage={"type": "integer", "minimum": 1, "maximum": 100},
    behavior=ref("k8sObject")), ["enabled", "minReplicas", "maxReplicas"])
defs["podDisruptionBudget"] = obj(O(enabled=boolean, minAvailable=ref("intOrPercent"), maxUnavailable=ref("intOrPercent")), ["enabled"],
    desc="minAvailable, when set, is used instead of maxUnavailable.")
defs["ingress"] = obj(O(
    enabled=boolean, className=string, annotations=ref("stringMap"),
    hosts={"type": "array", "items": obj(O(
        host=string,
        paths={"type": "array", "minItems": 1, "items": obj(O(path={"type": "string", "pattern": "^/"},
                                                               pathType={"enum": ["Prefix", "Exact", "ImplementationSpecific"]}), ["path", "pathType"])}),
        ["host", "paths"])},
    tls={"type": "array", "items": obj(O(secretName=ref("dnsSubdomain"), hosts={"type": "array", "items": string}), ["secretName"])}),
    ["enabled"])

base = O()
base["enabled"] = boolean
base["port"] = {"type": "integer", "minimum": 1024, "maximum": 65535, "description": "HTTP port (API, health, metrics); PORT."}
base["databaseSchema"] = {"type": "string", "pattern": "^[a-z_][a-z0-9_]*$", "description": "DATABASE_SCHEMA."}
base["databaseUrlSecret"] = dict(ref("secretRef"), description="Overrides externals.databaseUrlSecret for this service.")
base["kafkaClientId"] = {"type": "string", "minLength": 1, "description": "KAFKA_CLIENT_ID; defaults to the service name."}
base["image"] = obj(O(repository={"type": "string", "minLength": 1}, tag={"type": "string", "minLength": 1},
                      digest=dict(ref("digest"), description="This service's image digest; wins over image.digest.")))
base["replicas"] = {"type": "integer", "minimum": 0}
base["resources"] = ref("resources")
base["autoscaling"] = ref("autoscaling")
base["podDisruptionBudget"] = ref("podDisruptionBudget")
base["vault"] = obj(O(enabled=boolean, role={"type": "string"},
                      approleSecret=obj(O(name=ref("dnsSubdomain"), roleIdKey=ref("secretKey"), secretIdKey=ref("secretKey")), ["name", "roleIdKey", "secretIdKey"])),
                    ["enabled"])
base["serviceAccount"] = obj(O(name=ref("dnsSubdomain"), annotations=ref("stringMap")))
base["env"] = ref("envMap")
base["secretEnv"] = {"type": "object", "description": "Environment variables NAME: {name, key} read from existing Secrets.",
                     "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                     "additionalProperties": ref("secretRef")}
base["podAnnotations"] = ref("stringMap")
base["podLabels"] = ref("stringMap")
base["service"] = obj(O(type={"enum": ["ClusterIP", "NodePort", "LoadBalancer"]}, annotations=ref("stringMap")), ["type"])
base["networkPolicy"] = obj(O(ingressFrom=ref("peers"), extraEgress={"type": "array", "items": ref("egressRule")}))
base["nodeSelector"] = ref("stringMap")
base["tolerations"] = ref("k8sList")
base["affinity"] = ref("k8sObject")
base["topologySpreadConstraints"] = ref("k8sList")
base["priorityClassName"] = string
base["extraVolumes"] = dict(ref("k8sList"), description="Volumes added to this service's pods (after the global ones).")
base["extraVolumeMounts"] = dict(ref("k8sList"), description="VolumeMounts added to this service's container.")
base["terminationGracePeriodSeconds"] = {"type": "integer", "minimum": 0}
# Each service is a closed object (additionalProperties: false) listing the shared properties
# (definitions "service.<key>") plus its own, so a typo is reported at the service's path.
SERVICE_REQUIRED = ["enabled", "port", "databaseSchema", "replicas", "resources", "autoscaling",
                    "podDisruptionBudget", "vault", "service"]
for k, v in base.items():
    defs["service." + k] = v

def service(desc, extra):
    props = O((k, ref("service." + k)) for k in base)
    if extra:
        props.update(extra)
    return obj(props, SERVICE_REQUIRED, desc=desc)

smtp = obj(O(host={"type": "string", "minLength": 1}, port={"type": "integer", "minimum": 1, "maximum": 65535}, secure=boolean,
             requireTLS=dict(boolean, description="SMTP_REQUIRE_TLS: refuse to send without TLS (STARTTLS or secure)."),
             **{"from": {"type": "string", "minLength": 1}},
             authSecret=obj(O(name={"anyOf": [{"const": ""}, ref("dnsSubdomain")]}, userKey=ref("secretKey"), passwordKey=ref("secretKey")), ["name", "userKey", "passwordKey"])),
           ["host", "port", "from"])

services = obj(O([
    ("referral-intake", service("Inbound FHIR bundles, integrations, OAuth, FHIR pull API (the public endpoint).", O(ingress=ref("ingress")))),
    ("emr-gateway", service("EMR connections, adapters, the EMR-bound command queue, sync.", None)),
    ("vault", service("SEK custody in HashiCorp Vault, PHI crypto.", None)),
    ("scheduler", service("Sync and reminder schedules.", None)),
    ("notifier", service("E-mail (SMTP) and SMS delivery.", O(smtp=smtp, smsApiUrl={"type": "string", "pattern": "^(https?://.*)?$"}))),
    ("console", service("The web console: web app and admin API from one origin.", O(ingress=ref("ingress")))),
]), ["referral-intake", "emr-gateway", "vault", "scheduler", "notifier", "console"],
   desc="The five services and the console; no other keys are allowed.")

egress = obj(O(dns=ref("egressRule"), postgres=ref("egressRule"), kafka=ref("egressRule"), vault=ref("egressRule"), otel=ref("egressRule")),
             ["dns", "postgres", "kafka", "vault", "otel"])

top = O()
top["nameOverride"] = {"type": "string", "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", "maxLength": 40}
top["fullnameOverride"] = {"type": "string", "pattern": "^([a-z0-9]([-a-z0-9]*[a-z0-9])?)?$", "maxLength": 40}
top["commonLabels"] = ref("stringMap")
top["image"] = obj(O(registry={"type": "string", "pattern": "^[^/]*$"}, repositoryPrefix=string, tag=string,
                     digest=ref("digest"),
                     pullPolicy={"enum": ["Always", "IfNotPresent", "Never"]}), ["repositoryPrefix", "pullPolicy"])
top["imagePullSecrets"] = {"type": "array", "items": obj(O(name=ref("dnsSubdomain")), ["name"])}
top["config"] = obj(O(nodeEnv={"enum": ["production", "development", "test"]},
                      logLevel={"enum": ["fatal", "error", "warn", "info", "debug", "trace"]},
                      otelExporterOtlpEndpoint={"type": "string", "pattern": "^(https?://.*)?$"},
                      env=ref("envMap")), ["nodeEnv", "logLevel"])
top["externals"] = obj(O(
    databaseUrlSecret=ref("secretRef"),
    databaseMigrationUrlSecret=obj(O(name={"anyOf": [{"const": ""}, ref("dnsSubdomain")]}, key=ref("secretKey")), ["name", "key"],
                                   desc="The schema owner's URL (DATABASE_MIGRATION_URL); empty name: none."),
    kafkaBrokers={"type": "array", "minItems": 1, "items": {"type": "string", "pattern": "^[^,\\s]+:[0-9]+$"}},
    vaultAddr={"type": "string", "pattern": "^https?://[^\\s]+$"},
    vaultAuth=obj(O(method={"enum": ["kubernetes", "approle", "token"]}, tokenSecret=ref("secretRef"),
                    approleSecret=obj(O(name=ref("dnsSubdomain"), roleIdKey=ref("secretKey"), secretIdKey=ref("secretKey")), ["name", "roleIdKey", "secretIdKey"])),
                  ["method"])), ["databaseUrlSecret", "kafkaBrokers", "vaultAddr", "vaultAuth"],
    desc="Kafka, Postgres and Vault: not installed by this chart.")
top["serviceAuth"] = obj(O(secret=ref("secretRef")), ["secret"])
top["serviceIdentity"] = obj(O(
    signingKeySecretName={"type": "string", "pattern": "^[a-z0-9.-]*%s[a-z0-9.-]*$", "maxLength": 240},
    signingKeySecretKey=ref("secretKey"),
    publicKeys=obj(O(secretName=ref("dnsSubdomain"), key=ref("secretKey")), ["secretName", "key"])),
    ["signingKeySecretName", "signingKeySecretKey", "publicKeys"],
    desc="Each service's Ed25519 signing key (a Secret per service) and the services' public keys (a ConfigMap).")
top["podSecurityContext"] = ref("k8sObject")
top["containerSecurityContext"] = ref("k8sObject")
top["tmpVolume"] = obj(O(sizeLimit=ref("quantity"), medium={"enum": ["", "Memory"]}), ["sizeLimit"])
top["probes"] = obj(O(startup=ref("probe"), liveness=ref("probe"), readiness=ref("probe")), ["startup", "liveness", "readiness"])
nonNegInt = {"type": "integer", "minimum": 0}
duration = {"type": "string", "pattern": "^[0-9]+(ms|s|m|h)$"}
top["metrics"] = obj(O(
    podAnnotations=boolean,
    serviceMonitor=obj(O(enabled=boolean, interval=duration, scrapeTimeout=duration, labels=ref("stringMap")), ["enabled"]),
    prometheusRule=obj(O(enabled=boolean, labels=ref("stringMap"),
                         thresholds=obj(O(outboxPendingMessages=nonNegInt, deadLettered15m=nonNegInt, emrOldestPendingSeconds=nonNegInt,
                                          syncFailures1h=nonNegInt, certificateExpiryDays=nonNegInt)),
                         extraRules=ref("k8sList")), ["enabled"])), ["podAnnotations"])
top["extraVolumes"] = dict(ref("k8sList"), description="Volumes added to every service's pods.")
top["extraVolumeMounts"] = dict(ref("k8sList"), description="VolumeMounts added to every service's container.")
top["caBundle"] = obj(O(pem={"type": "string", "pattern": "^(\\s*-----BEGIN CERTIFICATE-----[\\s\\S]*)?$"}, configMapName={"anyOf": [{"const": ""}, ref("dnsSubdomain")]}, key=ref("secretKey")), ["configMapName", "key"],
                      desc="A PEM bundle of CAs in an existing ConfigMap, trusted for internal TLS (NODE_EXTRA_CA_CERTS).")
perService = {"type": "string", "pattern": "^[a-z0-9.-]*%s[a-z0-9.-]*$", "maxLength": 240}
top["tls"] = obj(O(internal=obj(O(
    enabled=dict(boolean, description="Every service serves HTTPS; service URLs, probes and helm tests use https."),
    secretName=dict(perService, description="Each service's kubernetes.io/tls Secret (%s: the service name)."),
    certManager=obj(O(issuerName={"anyOf": [{"const": ""}, ref("dnsSubdomain")]},
                      issuerKind={"enum": ["Issuer", "ClusterIssuer"]},
                      duration={"type": "string", "pattern": "^[0-9]+(h|m|s)$"},
                      renewBefore={"type": "string", "pattern": "^[0-9]+(h|m|s)$"}),
                    ["issuerName", "issuerKind", "duration", "renewBefore"])),
    ["enabled", "secretName", "certManager"])), ["internal"],
    desc="TLS between the services (TLS_CERT_FILE, TLS_KEY_FILE).")
top["postgres"] = obj(O(sslMode={"enum": ["", "disable", "verify-full"],
                                 "description": "DATABASE_SSL_MODE; empty leaves it to the URL."}), ["sslMode"])
top["kafka"] = obj(O(topics=obj(O(replicationFactor={"type": "integer", "minimum": 1, "maximum": 32767},
                                  minInsyncReplicas={"type": "integer", "minimum": 1, "maximum": 32767}),
                                ["replicationFactor", "minInsyncReplicas"]),
                     tls=obj(O(enabled=dict(boolean, description="KAFKA_TLS")), ["enabled"]),
                     sasl=obj(O(enabled=boolean, mechanism={"enum": ["scram-sha-512", "scram-sha-256"]},
                                username=dict(perService, description="KAFKA_SASL_USERNAME (%s: the service name)."),
                                passwordSecretName=dict(perService, description="Each service's Secret with its password (%s: the service name)."),
                                passwordSecretKey=ref("secretKey")),
                              ["enabled", "mechanism", "username", "passwordSecretName", "passwordSecretKey"])),
                   ["topics"])
top["tests"] = obj(O(enabled=boolean, ingressUrl={"type": "string", "pattern": "^(https?://[^\\s]+)?$"},
                     imageFrom={"type": "string", "pattern": "^[a-z][-a-z0-9]*$"}), ["enabled"],
                   desc="helm test pods.")
top["bootstrap"] = obj(O(
    enabled=boolean,
    site=obj(O(number={"type": ["string", "integer"], "pattern": "^([1-9][0-9]{0,9})?$"}, name=string,
               locale={"enum": ["en", "fr"]}, timezone=string, adminEmail=string, clinicalAdminEmail=string)),
    adminPasswordSecret=ref("secretRef"), backoffLimit=nonNegInt, activeDeadlineSeconds={"type": "integer", "minimum": 1}),
    ["enabled"], desc="Post-install Job registering the first site and its admin.")
top["networkPolicy"] = obj(O(enabled=boolean, allowIntraRelease=boolean, ingressFrom=ref("peers"), egress=egress,
                             extraEgress={"type": "array", "items": ref("egressRule")}), ["enabled"])
top["nodeSelector"] = ref("stringMap")
top["tolerations"] = ref("k8sList")
top["affinity"] = ref("k8sObject")
top["topologySpreadConstraints"] = ref("k8sList")
top["priorityClassName"] = string
top["terminationGracePeriodSeconds"] = {"type": "integer", "minimum": 0}
top["revisionHistoryLimit"] = {"type": "integer", "minimum": 0}
top["services"] = services

schema = O()
schema["$schema"] = "http://json-schema.org/draft-07/schema#"
schema["title"] = "cloud-connect chart values"
schema["type"] = "object"
schema["additionalProperties"] = False
schema["required"] = ["image", "config", "externals", "serviceAuth", "serviceIdentity", "services", "networkPolicy", "probes", "tmpVolume"]
schema["properties"] = top
schema["definitions"] = defs
text = json.dumps(schema, indent=2) + "\n"
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cloud-connect", "values.schema.json")
if len(sys.argv) > 1 and sys.argv[1] == "--check":
    with open(out) as f:
        if f.read() != text:
            sys.exit("values.schema.json is out of date: run python3 deploy/helm/schema/gen_values_schema.py")
    sys.exit(0)
with open(out, "w") as f:
    f.write(text)

