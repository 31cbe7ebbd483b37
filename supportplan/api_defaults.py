"""API defaults set in REST_FRAMEWORK: pagination, throttling, the one error shape.

Kept apart from the view bases: DRF imports these while ``rest_framework.views`` loads.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, pagination, status, throttling
from rest_framework.response import Response

from supportplan import access

logger = logging.getLogger(__name__)


class StandardPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PrincipalRateThrottle(throttling.SimpleRateThrottle):
    """One bucket per API key, per user, or per client address for anonymous requests."""

    scope = "principal"

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if access.is_api_key(user):
            ident = f"key:{user.api_key.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def _field_messages(detail: Any) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            str(key): [str(item) for item in value] if isinstance(value, list) else _flatten(value)
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"non_field_errors": [str(item) for item in detail]}
    return {"non_field_errors": [str(detail)]}


def _flatten(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, messages in value.items() for message in _flatten(messages)]
    if isinstance(value, list):
        return [message for item in value for message in _flatten(item)]
    return [str(value)]


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """One JSON shape for every error: ``{"error": {"code", "message", "fields"}}``."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, IntegrityError | DataError):
        logger.info("Rejected a write the database refused: %s", type(exc).__name__)
        exc = exceptions.ValidationError({"non_field_errors": ["This change conflicts with stored data."]})
    elif isinstance(exc, ValueError | OverflowError):
        # Hostile values (out-of-range numbers, NUL bytes) that slipped past field validation.
        logger.info("Rejected a request value: %s", type(exc).__name__)
        exc = exceptions.ValidationError({"non_field_errors": ["A value in the request is out of range."]})

    from rest_framework.views import exception_handler as drf_exception_handler

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_messages(exc.detail)
        body = {"code": "invalid", "message": "The request has invalid fields.", "fields": fields}
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = exc.get_codes() if isinstance(exc, exceptions.APIException) else "error"
        body = {"code": code if isinstance(code, str) else "error", "message": str(detail), "fields": {}}
    response.data = {"error": body}
    if response.status_code == status.HTTP_429_TOO_MANY_REQUESTS and "Retry-After" in response:
        response.data["error"]["retry_after_seconds"] = int(response["Retry-After"])
    return response
