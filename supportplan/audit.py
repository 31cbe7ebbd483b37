"""The audit trail: which models are audited and how requests attach who did it.

django-auditlog writes an ``AuditEntry`` for every create, change and delete of a registered
model, whether it came through the UI, the admin, the API or a shell. Later apps add their
configuration models with ``register(Model)`` in their ``AppConfig.ready``.
"""

from __future__ import annotations

import functools

from auditlog import get_logentry_model
from auditlog.cid import correlation_id
from auditlog.context import _set_extra_data, auditlog_value
from auditlog.middleware import AuditlogMiddleware
from auditlog.registry import auditlog
from django.conf import settings
from django.db import models
from django.db.models.signals import pre_save

#: Fields that hold secrets or their hashes: never written to an audit row.
SECRET_FIELDS = ("key_hash", "password", "token", "token_hash", "secret")


def register(
    model: type[models.Model], *, exclude_fields: tuple[str, ...] = (), m2m_fields: tuple[str, ...] = ()
) -> None:
    fields = model._meta.get_fields()
    field_names = {field.name for field in fields}
    # Reverse relations and the primary key say nothing a reader of the history needs.
    noise = [field.name for field in fields if field.auto_created and not field.concrete]
    excluded = [name for name in (*SECRET_FIELDS, *exclude_fields, "id") if name in field_names]
    auditlog.register(model, exclude_fields=[*excluded, *noise], m2m_fields=set(m2m_fields))


def register_models() -> None:
    from supportplan.models import ApiKey, Location, Membership, SupportPlan

    register(SupportPlan, exclude_fields=("updated_at",))
    register(Location)
    register(Membership)
    register(ApiKey, exclude_fields=("last_used_at",))


def attribute_to_api_key(api_key) -> None:
    """Records the API key as the author of audit rows written for the current request.

    The auditlog middleware opens a context for each request before DRF has authenticated it;
    this adds the key to that context (the entry model has an ``api_key`` field it fills).
    """
    try:
        context = auditlog_value.get()
    except LookupError:
        return
    context["api_key"] = api_key


#: The dispatch id of the one ``pre_save`` receiver ``AuditContextMiddleware`` relies on.
_REQUEST_CONTEXT_RECEIVER = ("supportplan.audit", "request-context")


class AuditContextMiddleware(AuditlogMiddleware):
    """auditlog's middleware (the request's actor, address and correlation id on every audit row
    written while it runs) without connecting and disconnecting a ``pre_save`` receiver on every
    request: one receiver, connected once, reads the request's context, which is cleared when the
    request ends. Connecting per request also emptied the signals' receiver cache, so every save
    of the request looked its receivers up again. Headers are read as auditlog reads them, from
    ``request.META``."""

    def __init__(self, get_response=None):
        super().__init__(get_response)
        pre_save.connect(
            functools.partial(_set_extra_data, signal_duid=_REQUEST_CONTEXT_RECEIVER),
            sender=get_logentry_model(),
            dispatch_uid=_REQUEST_CONTEXT_RECEIVER,
            weak=False,
        )

    @staticmethod
    def _header(request, name: str) -> str | None:
        # ``request.META`` read directly: ``request.headers`` builds a dict of every header.
        return request.META.get("HTTP_" + name.upper().replace("-", "_"))

    def _set_cid(self, request) -> None:
        """``auditlog.cid.set_cid``, reading the header from ``request.META``."""
        if settings.AUDITLOG_CID_GETTER:
            return
        header = settings.AUDITLOG_CID_HEADER
        cid = None
        if header:
            cid = self._header(request, header)
            if cid is None:
                cid = request.META.get(header)
        correlation_id.set(cid)

    def _get_remote_addr(self, request):
        if settings.AUDITLOG_DISABLE_REMOTE_ADDR:
            return None
        forwarded = self._header(request, "X-Forwarded-For")
        if not forwarded:
            return request.META.get("REMOTE_ADDR")
        remote_addr = forwarded.split(",")[0]
        if "." in remote_addr and ":" in remote_addr:  # IPv4 with a port
            remote_addr = remote_addr.split(":")[0]
        elif "[" in remote_addr:  # IPv6 with a port
            remote_addr = remote_addr[1:].split("]")[0]
        return remote_addr

    def _get_remote_port(self, request) -> int | None:
        try:
            return int(self._header(request, "X-Forwarded-Port") or "")
        except ValueError:
            return None

    def __call__(self, request):
        self._set_cid(request)
        context = self.get_extra_data(request)
        context["signal_duid"] = _REQUEST_CONTEXT_RECEIVER
        token = auditlog_value.set(context)
        try:
            return self.get_response(request)
        finally:
            auditlog_value.reset(token)
