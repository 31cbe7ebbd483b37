"""API key authentication: ``Authorization: Api-Key <key>`` (``Bearer`` is accepted too)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from supportplan.access import ApiKeyPrincipal
from supportplan.audit import attribute_to_api_key
from supportplan.services import api_key_authenticate

KEYWORDS = ("api-key", "bearer")


def names_api_key(authorization: str) -> bool:
    """Whether an ``Authorization`` header uses a scheme this authentication takes: the request is
    then authenticated by the key it names or refused, never by the session."""
    return authorization.partition(" ")[0].lower() in KEYWORDS


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not names_api_key(header):
            return None
        raw_key = header.partition(" ")[2].strip()
        if not raw_key or "\x00" in raw_key or len(raw_key) > 200:
            raise exceptions.AuthenticationFailed("Malformed API key.")
        api_key = api_key_authenticate(raw_key)
        if api_key is None:
            raise exceptions.AuthenticationFailed("Unknown or revoked API key.")
        attribute_to_api_key(api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request) -> str:
        return 'Api-Key realm="supportplan"'


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "supportplan.api_auth.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`; a key is scoped to one plan.",
        }
