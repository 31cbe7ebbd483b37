"""Writes for priorities, the priority matrix, SLA policies, their targets and escalation ladders,
and the reads the SLA pages and the API share (the overview, the matrix, ladders in words).

Views, the API, plan creation and the demo call these. Every write validates the whole record and
reports all its problems at once as field errors (``ValidationError`` with a dict).
"""

from operations.sla_services._base import (
    MAX_LADDER_STEPS,
    MAX_REPEAT_MINUTES,
    MAX_REPEATS,
    MAX_TARGET_MINUTES,
    MIN_REPEAT_MINUTES,
)
from operations.sla_services.ladders import (
    escalation_ladder_replace,
    escalation_step_create,
    escalation_step_delete,
    escalation_step_update,
)
from operations.sla_services.policies import (
    sla_policy_create,
    sla_policy_delete,
    sla_policy_update,
    sla_target_create,
    sla_target_delete,
    sla_target_update,
)
from operations.sla_services.priorities import (
    CRITICALITY_IMPACT,
    EXAMPLE_LABEL,
    EXAMPLE_PRIORITIES,
    example_priority_code,
    matrix_set_cell,
    priorities_seed_defaults,
    priority_create,
    priority_delete,
    priority_suggested_impact,
    priority_update,
)
from operations.sla_services.reads import (
    MatrixCell,
    MatrixRow,
    escalation_ladder_sentence,
    escalation_step_sentence,
    minutes_in_words,
    priority_matrix,
    sla_overview,
)

__all__ = [
    "CRITICALITY_IMPACT",
    "EXAMPLE_LABEL",
    "EXAMPLE_PRIORITIES",
    "MAX_LADDER_STEPS",
    "MAX_REPEATS",
    "MAX_REPEAT_MINUTES",
    "MAX_TARGET_MINUTES",
    "MIN_REPEAT_MINUTES",
    "MatrixCell",
    "MatrixRow",
    "escalation_ladder_replace",
    "escalation_ladder_sentence",
    "escalation_step_create",
    "escalation_step_delete",
    "escalation_step_sentence",
    "escalation_step_update",
    "example_priority_code",
    "matrix_set_cell",
    "minutes_in_words",
    "priorities_seed_defaults",
    "priority_create",
    "priority_delete",
    "priority_matrix",
    "priority_suggested_impact",
    "priority_update",
    "sla_overview",
    "sla_policy_create",
    "sla_policy_delete",
    "sla_policy_update",
    "sla_target_create",
    "sla_target_delete",
    "sla_target_update",
]
