"""Authentication compatible with Alertmanager's http_config: bearer token and basic auth, constant time."""

from __future__ import annotations

import base64
import binascii
import hmac

from flask import Request, Response

from alerts_processor.blueprints.errors import error_response

REALM = 'realm="alerts_processor"'


def _equal(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _credentials(request: Request, scheme: str) -> str | None:
    header = request.headers.get("Authorization", "")
    name, _, value = header.partition(" ")
    return value.strip() if name.lower() == scheme.lower() and value.strip() else None


def _basic(request: Request) -> str | None:
    encoded = _credentials(request, "Basic")
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def check(request: Request, token: str, basic_auth: str = "") -> Response | None:
    """None when the request may pass (or no credentials are configured), else the 401 to send."""
    if not token and not basic_auth:
        return None
    bearer = _credentials(request, "Bearer")
    if token and bearer is not None and _equal(bearer, token):
        return None
    user_password = _basic(request)
    if basic_auth and user_password is not None and _equal(user_password, basic_auth):
        return None
    challenges = [f"{scheme} {REALM}" for scheme, on in (("Bearer", token), ("Basic", basic_auth)) if on]
    given = "invalid credentials" if request.headers.get("Authorization") else "credentials required"
    return error_response(401, "unauthorized", given, {"WWW-Authenticate": ", ".join(challenges)})
