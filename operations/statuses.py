"""The statuses a support request moves through.

SLA policies name the ones that pause a clock (``SlaPolicy.pause_statuses``); the helpdesk issue
reuses these values for its requests, so keep them stable.
"""

from django.db import models


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    AWAITING_CUSTOMER = "awaiting_customer", "Awaiting customer"
    AWAITING_VENDOR = "awaiting_vendor", "Awaiting vendor"
    RESOLVED = "resolved", "Resolved"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"
