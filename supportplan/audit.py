"""The audit trail: which models are audited and how requests attach who did it.

django-auditlog writes an ``AuditEntry`` for every create, change and delete of a registered
model, whether it came through the UI, the admin, the API or a shell. Later apps add their
configuration models with ``register(Model)`` in their ``AppConfig.ready``.
"""

from __future__ import annotations

from auditlog.context import auditlog_value
from auditlog.registry import auditlog
from django.db import models

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
