"""The database guard: triggers that keep the events table append-only and linear."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING

from django.db import DEFAULT_DB_ALIAS, connections

if TYPE_CHECKING:
    from django.db.backends.base.base import BaseDatabaseWrapper

# The database guard -------------------------------------------------------------

EVENTS_TABLE = "portal_social_auditevent"

#: PostgreSQL: one function refuses UPDATE, DELETE and TRUNCATE; another lets
#: an INSERT through only when it extends the chain. ``record()`` holds the
#: chain head's row lock while it inserts, so the newest event the trigger
#: reads is the one the new event links to.
POSTGRESQL_GUARD = (
    """
    CREATE OR REPLACE FUNCTION portal_social_audit_append_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'portal_social audit events are append-only (% refused)', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE OR REPLACE FUNCTION portal_social_audit_extends_chain() RETURNS trigger AS $$
    DECLARE
        last_sequence bigint;
        last_hash varchar;
    BEGIN
        SELECT sequence, hash INTO last_sequence, last_hash
            FROM portal_social_auditevent ORDER BY sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            last_sequence := 0;
            last_hash := repeat('0', 64);
        END IF;
        IF NEW.sequence IS DISTINCT FROM last_sequence + 1 OR NEW.prev_hash IS DISTINCT FROM last_hash THEN
            RAISE EXCEPTION 'portal_social audit events must extend the chain (sequence % refused after %)',
                NEW.sequence, last_sequence USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_truncate ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain ON portal_social_auditevent",
    """
    CREATE TRIGGER portal_social_audit_append_only
        BEFORE UPDATE OR DELETE ON portal_social_auditevent
        FOR EACH ROW EXECUTE FUNCTION portal_social_audit_append_only()
    """,
    """
    CREATE TRIGGER portal_social_audit_no_truncate
        BEFORE TRUNCATE ON portal_social_auditevent
        FOR EACH STATEMENT EXECUTE FUNCTION portal_social_audit_append_only()
    """,
    """
    CREATE TRIGGER portal_social_audit_extends_chain
        BEFORE INSERT ON portal_social_auditevent
        FOR EACH ROW EXECUTE FUNCTION portal_social_audit_extends_chain()
    """,
)

POSTGRESQL_UNGUARD = (
    "DROP TRIGGER IF EXISTS portal_social_audit_append_only ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_truncate ON portal_social_auditevent",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain ON portal_social_auditevent",
    "DROP FUNCTION IF EXISTS portal_social_audit_extends_chain()",
    "DROP FUNCTION IF EXISTS portal_social_audit_append_only()",
)

#: SQLite has no TRUNCATE (``DELETE`` without ``WHERE`` fires the delete
#: trigger once triggers exist). SQLite drops a table's triggers when Django
#: rebuilds the table to alter it, so a migration that alters the events table
#: must call ``install_database_guard`` again; ``portal_social_audit verify``
#: warns when the guard is missing.
SQLITE_GUARD = (
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_no_update
        BEFORE UPDATE ON portal_social_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events are append-only (UPDATE refused)');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_no_delete
        BEFORE DELETE ON portal_social_auditevent
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events are append-only (DELETE refused)');
    END
    """,
    """
    CREATE TRIGGER IF NOT EXISTS portal_social_audit_extends_chain
        BEFORE INSERT ON portal_social_auditevent
        WHEN NEW.sequence IS NOT (SELECT COALESCE(MAX(sequence), 0) + 1 FROM portal_social_auditevent)
          OR NEW.prev_hash IS NOT COALESCE(
              (SELECT hash FROM portal_social_auditevent ORDER BY sequence DESC LIMIT 1),
              '0000000000000000000000000000000000000000000000000000000000000000'
          )
    BEGIN
        SELECT RAISE(ABORT, 'portal_social audit events must extend the chain');
    END
    """,
)

SQLITE_UNGUARD = (
    "DROP TRIGGER IF EXISTS portal_social_audit_no_update",
    "DROP TRIGGER IF EXISTS portal_social_audit_no_delete",
    "DROP TRIGGER IF EXISTS portal_social_audit_extends_chain",
)

_GUARD = {"postgresql": POSTGRESQL_GUARD, "sqlite": SQLITE_GUARD}
_UNGUARD = {"postgresql": POSTGRESQL_UNGUARD, "sqlite": SQLITE_UNGUARD}
_GUARD_TRIGGERS = {
    "postgresql": {
        "portal_social_audit_append_only",
        "portal_social_audit_no_truncate",
        "portal_social_audit_extends_chain",
    },
    "sqlite": {"portal_social_audit_no_update", "portal_social_audit_no_delete", "portal_social_audit_extends_chain"},
}


def _execute_all(connection: BaseDatabaseWrapper, statements: tuple[str, ...]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_database_guard(connection: BaseDatabaseWrapper) -> None:
    """Create the triggers that keep the events table append-only and linear (PostgreSQL, SQLite)."""
    _execute_all(connection, _GUARD.get(connection.vendor, ()))


def remove_database_guard(connection: BaseDatabaseWrapper) -> None:
    """Drop the triggers ``install_database_guard`` created."""
    _execute_all(connection, _UNGUARD.get(connection.vendor, ()))


def database_guard_installed(connection: BaseDatabaseWrapper) -> bool | None:
    """Whether every guard trigger is present and enabled; ``None`` on other databases."""
    expected = _GUARD_TRIGGERS.get(connection.vendor)
    if expected is None:
        return None
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal AND tgenabled <> 'D'",
                [EVENTS_TABLE],
            )
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [EVENTS_TABLE])
        present = {row[0] for row in cursor.fetchall()}
    return expected <= present


@contextlib.contextmanager
def database_guard_lifted(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Drop the guard triggers for the duration, then create them again.

    For test suites that empty the database between tests with Django's
    ``flush`` (``TransactionTestCase``, ``LiveServerTestCase``, pytest-django's
    ``transaction=True``), which the guard otherwise refuses. Needs a database
    role that owns the events table. The database checks nothing done inside;
    ``verify_chain`` still does.
    """
    connection = connections[using]
    remove_database_guard(connection)
    try:
        yield
    finally:
        install_database_guard(connection)


@contextlib.contextmanager
def flush_lifts_database_guard() -> Iterator[None]:
    """While active, Django's ``flush`` lifts the guard around emptying the tables.

    For test suites only: ``TransactionTestCase``, ``LiveServerTestCase`` and
    pytest-django's ``transaction=True`` tests end with ``flush``, which the
    guard refuses (TRUNCATE on PostgreSQL, DELETE on SQLite). Wrap the test
    session in it, for example in ``conftest.py``::

        @pytest.fixture(autouse=True, scope="session")
        def _flush_lifts_the_audit_guard():
            with audit.flush_lifts_database_guard():
                yield
    """
    from django.db.backends.base.operations import BaseDatabaseOperations

    patched = {type(connections[alias].ops) for alias in connections}
    originals = {ops_class: ops_class.execute_sql_flush for ops_class in patched}

    def wrap(original):
        def execute_sql_flush(self: BaseDatabaseOperations, sql_list: list[str]) -> None:
            with database_guard_lifted(self.connection.alias):
                return original(self, sql_list)

        return execute_sql_flush

    for ops_class, original in originals.items():
        ops_class.execute_sql_flush = wrap(original)
    try:
        yield
    finally:
        for ops_class, original in originals.items():
            ops_class.execute_sql_flush = original
