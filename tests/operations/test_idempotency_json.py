"""The stored (and replayed) response body is what the JSON renderer sends, with or without the
round trip through JSON."""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.utils.encoders import JSONEncoder
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from operations.helpdesk.idempotency import _json_safe


def round_trip(body):
    return json.loads(json.dumps(body, cls=JSONEncoder))


NATIVE = [
    {"id": 7, "kind": "comment", "score": 1.5, "done": False, "party": None, "tags": ["a", "b"]},
    ReturnDict({"id": 1, "nested": {"x": [1, 2, {"y": None}]}}, serializer=None),
    ReturnList([{"id": 1}, {"id": 2}], serializer=None),
    "text",
    3,
]
CONVERTED = [
    {"at": datetime(2026, 7, 6, 7, 30, tzinfo=UTC)},
    {"amount": Decimal("1.50")},
    {"pair": (1, 2)},
    {"label": gettext_lazy("Resolved")},
    {"id": uuid.UUID(int=5)},
    {7: "an int key becomes a string"},
    [{"nested": {"at": datetime(2026, 1, 1, tzinfo=UTC)}}],
]


@pytest.mark.parametrize("body", NATIVE)
def test_a_body_of_json_values_is_kept_as_it_is(body):
    assert _json_safe(body) is body
    assert _json_safe(body) == round_trip(body)


@pytest.mark.parametrize("body", CONVERTED)
def test_any_other_body_is_what_the_json_round_trip_gives(body):
    safe = _json_safe(body)
    assert safe == round_trip(body)
    assert json.dumps(safe) == json.dumps(round_trip(body))
