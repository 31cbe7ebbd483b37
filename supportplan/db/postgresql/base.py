"""Django's PostgreSQL backend with a cheaper per-request health check.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request (and
Celery task) on a reused connection: under steady load that is one round trip per API call, as much
as a whole statement of the ingestion path (issue 7). A connection that ended its previous request
cleanly (no error other than a data or integrity error) less than :attr:`DatabaseWrapper.trusted_for`
seconds ago is trusted instead; an idle one is still checked. The difference: when the database goes
away within that second, the next request on the connection fails once (as requests running at that
moment do) and Django drops the connection at its end.
"""

from __future__ import annotations

import time

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    #: Seconds after a clean request during which the connection is not checked again.
    trusted_for = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clean_request_ended_at: float | None = None

    def close_if_unusable_or_obsolete(self):
        # Called at the start and at the end of every request. Only after a request that used the
        # connection is the health check marked done (Django resets the mark for the next one).
        used = self.connection is not None and self.health_check_done
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self.clean_request_ended_at = None
        elif used and not self.errors_occurred:
            self.clean_request_ended_at = time.monotonic()

    def close_if_health_check_failed(self):
        ended = self.clean_request_ended_at
        if (
            self.connection is not None
            and not self.health_check_done
            and ended is not None
            and time.monotonic() - ended < self.trusted_for
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close(self):
        self.clean_request_ended_at = None
        super().close()
