"""API defaults set in REST_FRAMEWORK: pagination, throttling, the one error shape.

Kept apart from the view bases: DRF imports these while ``rest_framework.views`` loads.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from django.http import Http404
from rest_framework import exceptions, negotiation, pagination, status, throttling
from rest_framework.response import Response

from supportplan import access

logger = logging.getLogger(__name__)


class ContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's negotiation, answered directly for what API clients nearly always send: no ``Accept``
    header, ``*/*``, or exactly the first renderer's media type, and no format override. DRF gives
    the same answer after building the request's header dict, parsing the header and ranking each
    renderer against it: about 2% of the CPU of an ingested event. Anything else goes to DRF."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "*/*")
        if renderers and not format_suffix and not self._format_override(request):
            first = renderers[0]
            if accept == "*/*" or accept == first.media_type:
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)

    def _format_override(self, request) -> str | None:
        parameter = self.settings.URL_FORMAT_OVERRIDE
        return request.query_params.get(parameter) if parameter else None


class StandardPagination(pagination.PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


class PrincipalRateThrottle(throttling.SimpleRateThrottle):
    """One budget per API key, per user, or per client address for anonymous requests.

    The budget is the "principal" rate (``API_THROTTLE_RATE``, N per period) over a sliding period,
    estimated from two counters: the requests of this fixed period (aligned to the clock) and of the
    one before, the latter weighted by the share of it the sliding period still covers. Each request
    costs one ``incr`` and one ``get`` of small integers, whatever the rate: DRF's sliding log (a
    list of every timestamp) was read and written whole on every request. Refused requests do not
    count. A refusal's wait (``Retry-After``) is when the estimate next lets a request through.
    """

    scope = "principal"
    # Not DRF's key: those hold the old timestamp lists, which a counter must not meet (Redis incr).
    cache_format = "throttle-count_%(scope)s_%(ident)s"

    def get_cache_key(self, request, view) -> str:
        user = request.user
        if access.is_api_key(user):
            ident = f"key:{user.api_key.pk}"
        elif user is not None and user.is_authenticated:
            ident = f"user:{user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.now = self.timer()
        period = int(self.now // self.duration)
        self.period_start = period * self.duration
        counter = f"{self.key}:{period}"
        self.current = self._increment(counter)
        self.previous = self.cache.get(f"{self.key}:{period - 1}", 0)
        if self._estimate(self.current, self.now) <= self.num_requests:
            return True
        # Refused: not counted, so a client retrying too early does not push its next turn back.
        with contextlib.suppress(ValueError):  # gone (evicted): nothing to take back
            self.cache.decr(counter)
        self.current -= 1
        return self.throttle_failure()

    def _estimate(self, current: int, at: float) -> float:
        covered = 1 - (at - self.period_start) / self.duration
        return self.previous * max(covered, 0) + current

    def _increment(self, counter: str) -> int:
        try:
            return self.cache.incr(counter)
        except ValueError:
            # The period's first request. The counter is still read through the next period.
            if self.cache.add(counter, 1, self.duration * 2):
                return 1
            return self.cache.incr(counter)  # another request opened it meanwhile

    def wait(self) -> float:
        """Seconds until a request would be let through, if no other request comes meanwhile."""
        limit, duration = self.num_requests, self.duration
        if limit <= 0:
            return duration
        if self.current + 1 <= limit:
            # Later in this period, when less of the previous one is covered (previous > 0 here).
            share = 1 - (limit - self.current - 1) / self.previous
            ready = self.period_start + duration * share
        else:
            # In the next period, once enough of this one's requests are no longer covered.
            share = 1 - (limit - 1) / self.current if self.current else 0.0
            ready = self.period_start + duration * (1 + max(share, 0.0))
        return max(ready - self.now, 0.001)


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
