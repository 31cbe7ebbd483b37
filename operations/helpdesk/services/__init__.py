"""Writes for support requests: the upsert, events, references, status mappings, and the SLA clocks
recomputed from the event log (``replay``) whenever events arrive or the configuration changes.

Callers: the ingestion API (``operations/apis_requests.py``), the breach sweep
(``operations/helpdesk/sweep.py``: ``escalation_apply`` and ``clock_step_advance``), the SLA and
calendar services (``clocks_repair``), the demo. Errors are ``ValidationError({field: message})``
raised before anything is stored (and inside ``transaction.atomic``, so a late one stores nothing).

Concurrency: events of one request are serialised by a ``FOR NO KEY UPDATE`` lock on the request
row (a key-share lock, as taken by inserting an event, does not wait on it). The sweep holds clock
rows while it acts, so ``escalation_apply`` never *waits* for the request lock: when an event write
holds it, the recompute runs after the sweep's commit instead.

Ladder progress survives every recompute without a column of its own: a step × repeat of a clock
counts as done when its key ``clock:<clock id>:step:<step id>:<repeat>`` (``step_event_key``) is in
the outbox (``Notification``/``WebhookDelivery.event_key``) or is the source event id of an
"escalated" event. So a step already sent is never scheduled again, a step missed during downtime is
scheduled once, and the stored clocks stay a function of the events whatever order they arrived in.
"""

from operations.helpdesk.services._common import MAX_FUTURE, step_event_key
from operations.helpdesk.services.clocks import (
    clock_step_advance,
    clocks_repair,
    clocks_repair_later,
    escalation_apply,
    request_recompute,
)
from operations.helpdesk.services.references import (
    reference_add,
    request_by_reference,
    status_mapping_create,
    status_mapping_delete,
    status_mapping_update,
)
from operations.helpdesk.services.requests import (
    event_record,
    request_lock,
    request_lock_claiming,
    request_upsert,
)

__all__ = [
    "MAX_FUTURE",
    "clock_step_advance",
    "clocks_repair",
    "clocks_repair_later",
    "escalation_apply",
    "event_record",
    "reference_add",
    "request_by_reference",
    "request_lock",
    "request_lock_claiming",
    "request_recompute",
    "request_upsert",
    "status_mapping_create",
    "status_mapping_delete",
    "status_mapping_update",
    "step_event_key",
]
