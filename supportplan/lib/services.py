"""Small helpers every app's services share."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.exceptions import ValidationError


def apply_fields(instance, fields: dict[str, Any], allowed: Collection[str]) -> list[str]:
    """Sets ``fields`` on ``instance``; names outside ``allowed`` are a field error. Returns the names."""
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError(dict.fromkeys(sorted(unknown), "This field cannot be changed here."))
    for name, value in fields.items():
        setattr(instance, name, value)
    return list(fields)
