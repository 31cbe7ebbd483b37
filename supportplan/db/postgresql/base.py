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
    """psycopg2's connection, always in autocommit. ``begin_pending``: Django has left autocommit
    and no statement has opened the transaction yet. ``held``: statements (their text, parameters
    bound) that go with the next statement sent, or with the ``COMMIT`` (``hold_until_commit``)."""

    begin_pending = False
    held: str | None = None

    def hold_until_commit(self, text: str) -> None:
        self.held = f"{self.held};\n{text}" if self.held else text

    def take_held(self) -> str:
        held, self.held = self.held, None
        return held or ""

    def begin_now(self) -> None:
        held = self.take_held()
        if self.begin_pending or held:
            with psycopg2.extensions.cursor(self) as cursor:
                cursor.execute(("BEGIN;" if self.begin_pending else "") + held)
            self.begin_pending = False

    def ending(self, command: str) -> str | None:
        """The text that ends the transaction with ``command``: ``COMMIT`` after what is held, or
        ``ROLLBACK`` (what is held is dropped); None when no transaction was opened and nothing is
        held to commit."""
        held = self.take_held()
        self.begin_pending = False
        opened = self.get_transaction_status() != _IDLE
        if command == "COMMIT" and held:
            return ("" if opened else "BEGIN;") + held + ";\n" + command
        return command if opened else None

    def end(self, text: str) -> None:
        with psycopg2.extensions.cursor(self) as cursor:
            cursor.execute(text)


class _Cursor(psycopg2.extensions.cursor):
    def execute(self, query, vars=None):
        connection = self.connection
        if not connection.begin_pending and not connection.held:
            return super().execute(query, vars)
        if self.name is not None or not isinstance(query, str):
            connection.begin_now()  # a server-side cursor's DECLARE, or a composed query
            return super().execute(query, vars)
        held = connection.take_held()
        if held:
            # Parameters are bound into the whole text: a literal % of what is held is doubled.
            held = (held if vars is None else held.replace("%", "%%")) + ";\n"
        began = connection.begin_pending
        try:
            return super().execute(("BEGIN;" if began else "") + held + query, vars)
        finally:
            # Still pending only when the server rejected the text before running BEGIN.
            if began:
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
        self._end("COMMIT")

    def _rollback(self):
        if not isinstance(self.connection, _Connection):
            return super()._rollback()
        self._end("ROLLBACK")

    def _end(self, command: str) -> None:
        text = self.connection.ending(command)
        with debug_transaction(self, text or command), self.wrap_database_errors:
            try:
                if text is not None:
                    self.connection.end(text)
            finally:
                # Outside ``atomic`` (autocommit turned off by hand) the next statement opens the next one.
                self.connection.begin_pending = not self.autocommit

    def hold_until_commit(self, text: str) -> bool:
        """Holds ``text`` (statements, parameters bound) to send with the ``COMMIT`` that ends the
        outermost ``atomic`` block next, in one round trip; or with any statement sent before it
        (a rollback drops it). False, and nothing held, when the next end of a block is not that
        commit (a savepoint, an enclosing block, a transaction managed by hand, a rollback due)."""
        if not (
            isinstance(self.connection, _Connection)
            and self.in_atomic_block
            and self.commit_on_exit
            and len(self.atomic_blocks) == 1
            and not self.savepoint_ids
            and not self.needs_rollback
        ):
            return False
        self.connection.hold_until_commit(text)
        return True

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
