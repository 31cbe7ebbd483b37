"""What the SLA services share: limits, field-error collection, the plan lock."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Model

Errors = dict[str, list[str]]

MAX_TARGET_MINUTES = 525_600  # a year
MAX_LADDER_STEPS = 20
MAX_REPEATS = 10
MIN_REPEAT_MINUTES = 5
MAX_REPEAT_MINUTES = 10_080  # a week


def add_error(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def clean_into(instance: Model, errors: Errors, *, exclude: Iterable[str] = ()) -> None:
    """Adds the model's own field validation to ``errors``, skipping fields that already have one.

    Constraints are not validated here: each service checks them first with a message that names
    the field (the database constraints remain the backstop).
    """
    try:
        instance.full_clean(exclude=[*errors, *exclude], validate_unique=False, validate_constraints=False)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            errors.setdefault(field, []).extend(messages)


def raise_errors(errors: Errors) -> None:
    if errors:
        raise ValidationError(errors)


def day_in_words(value: date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else "open-ended"
