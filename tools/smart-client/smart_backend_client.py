"""A SMART Backend Services client built on authlib, as an integrator would write one.

    python smart_backend_client.py <fhir-base> <client-id> <private-jwk-file> <scope>

Discovers the token endpoint at {fhir-base}/.well-known/smart-configuration (SMART App Launch 2.x),
gets an access token with client_credentials and a private_key_jwt client assertion (RFC 7523,
RS384, the key's kid in the header), reads one page of ServiceRequests with it, and prints one JSON
line: what discovery said, the token's type/scope/expiry and the search's status. Exits 1 on any
failure. Every request has a timeout.
"""

import json
import sys
import time

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT

TIMEOUT = 20


def main() -> int:
    base, client_id, jwk_file, scope = sys.argv[1:5]
    with open(jwk_file, encoding="utf-8") as f:
        private_jwk = json.load(f)
    discovery = requests.get(f"{base}/.well-known/smart-configuration", timeout=TIMEOUT)
    discovery.raise_for_status()
    smart = discovery.json()
    token_endpoint = smart["token_endpoint"]
    if "private_key_jwt" not in smart.get("token_endpoint_auth_methods_supported", []):
        raise SystemExit("the server does not advertise private_key_jwt")
    alg = "RS384"
    if alg not in smart.get("token_endpoint_auth_signing_alg_values_supported", []):
        raise SystemExit(f"the server does not advertise {alg}")
    # authlib's default assertion lifetime is one hour; SMART Backend Services allows at most five
    # minutes (the server refuses more), so the client sets exp itself.
    session = OAuth2Session(
        client_id,
        private_jwk,
        token_endpoint_auth_method=PrivateKeyJWT(
            token_endpoint,
            claims={"exp": int(time.time()) + 240},
            alg=alg,
            headers={"kid": private_jwk["kid"], "typ": "JWT"},
        ),
        scope=scope,
    )
    token = session.fetch_token(token_endpoint, grant_type="client_credentials", timeout=TIMEOUT)
    search = session.get(
        f"{base}/ServiceRequest",
        params={"_count": "1"},
        headers={"Accept": "application/fhir+json"},
        timeout=TIMEOUT,
    )
    print(
        json.dumps(
            {
                "client": f"authlib {__import__('authlib').__version__}",
                "discovery": discovery.url,
                "token_endpoint": token_endpoint,
                "token_type": token.get("token_type"),
                "scope": token.get("scope"),
                "expires_in": token.get("expires_in"),
                "access_token": token.get("access_token"),
                "search_status": search.status_code,
                "search_type": search.json().get("resourceType"),
            }
        )
    )
    return 0 if search.status_code == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
