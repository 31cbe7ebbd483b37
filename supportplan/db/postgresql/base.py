"""Django's PostgreSQL backend with a cheaper per-request health check, and transactions whose BEGIN
travels with their first statement.

With ``CONN_HEALTH_CHECKS`` Django sends ``SELECT 1`` before the first query of every request (and
Celery task) on a reused connection: under steady load that is one round trip per API call, as much
as a whole statement of the ingestion path (issue 7). A connection that ended its previous request
cleanly (no error other than a data or integrity error) less than :attr:`DatabaseWrapper.trusted_for`
seconds ago is trusted instead; an idle one is still checked. The difference: when the database goes
away within that second, the next request on the connection fails once (as requests running at that
moment do) and Django drops the connection at its end.

psycopg2 opens every transaction with a ``BEGIN`` of its own: a round trip before the first
statement, as costly as a small statement for both sides (issue 7: each helpdesk event is one
transaction). Here psycopg2 stays in autocommit, and the first statement of a transaction is sent
as ``BEGIN;<statement>`` (one round trip); ``COMMIT`` and ``ROLLBACK`` are sent when the server says
a transaction is open (libpq's transaction status), and not at all for a transaction that ran no
statement. One difference from psycopg2's own ``BEGIN``: when that first statement does not parse,
the server rejects the whole text and no transaction starts, so the next statement opens it (a
statement that fails when it runs aborts the transaction as before).
"""

from __future__ import annotations

import time

import psycopg2.extensions
from django.db.backends.postgresql import base, operations
from django.db.backends.utils import debug_transaction

_IDLE = psycopg2.extensions.TRANSACTION_STATUS_IDLE


class _Connection(psycopg2.extensions.connection):
    """psycopg2's connection, always in autocommit; ``begin_pending``: Django has left autocommit
    and no statement has opened the transaction yet."""

    begin_pending = False

    def begin_now(self) -> None:
        if self.begin_pending:
            with psycopg2.extensions.cursor(self) as cursor:
                cursor.execute("BEGIN")
            self.begin_pending = False

    def end(self, command: str) -> None:
        """``COMMIT`` or ``ROLLBACK`` the open transaction, if one was opened."""
        self.begin_pending = False
        if self.get_transaction_status() != _IDLE:
            with psycopg2.extensions.cursor(self) as cursor:
                cursor.execute(command)


class _Cursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):
        connection = self.connection
        if not connection.begin_pending:
            return super().execute(query, vars)
        if self.name is not None or not isinstance(query, str):
            connection.begin_now()  # a server-side cursor's DECLARE, or a composed query
            return super().execute(query, vars)
        try:
            return super().execute("BEGIN;" + query, vars)
        finally:
            # Still pending only when the server rejected the text before running BEGIN.
            connection.begin_pending = connection.get_transaction_status() == _IDLE

    def executemany(self, query, vars_list):
        self.connection.begin_now()
        return super().executemany(query, vars_list)

    def callproc(self, procname, parameters=None):
        self.connection.begin_now()
        return super().callproc(procname, parameters)

    def copy_expert(self, sql, file, size=8192):
        self.connection.begin_now()
        return super().copy_expert(sql, file, size)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        # As Django logs it: the BEGIN sent with a transaction's first statement is logged on its own
        # when the transaction starts (``debug_transaction``), as with psycopg2's BEGIN.
        query = super().last_executed_query(cursor, sql, params)
        return query.removeprefix("BEGIN;") if query is not None else None


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    #: Seconds after a clean request during which the connection is not checked again.
    trusted_for = 1.0

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clean_request_ended_at: float | None = None

    # --- BEGIN with the first statement ------------------------------------------------------------
    def _begins_with_first_statement(self) -> bool:
        # An isolation level of the settings' is psycopg2's to apply with its own BEGIN.
        return "isolation_level" not in self.settings_dict["OPTIONS"]

    def get_connection_params(self):
        params = super().get_connection_params()
        if self._begins_with_first_statement():
            params["connection_factory"] = _Connection
            params["cursor_factory"] = _Cursor
        return params

    def _set_autocommit(self, autocommit):
        if not isinstance(self.connection, _Connection):
            return super()._set_autocommit(autocommit)
        with self.wrap_database_errors:
            if not self.connection.autocommit:  # (psycopg2 refuses to set it inside a transaction)
                self.connection.autocommit = True
            self.connection.begin_pending = not autocommit

    def _commit(self):
        if not isinstance(self.connection, _Connection):
            return super()._commit()
        with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
            self.connection.end("COMMIT")
            # Outside ``atomic`` (autocommit turned off by hand) the next statement opens the next one.
            self.connection.begin_pending = not self.autocommit

    def _rollback(self):
        if not isinstance(self.connection, _Connection):
            return super()._rollback()
        with debug_transaction(self, "ROLLBACK"), self.wrap_database_errors:
            self.connection.end("ROLLBACK")
            self.connection.begin_pending = not self.autocommit

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
