"""Recommended ``DATABASES`` entries for the two supported databases.

Use them in a host's settings module (they import nothing from Django's
settings, so they are safe there)::

    from portal_social.core.database import postgres_database, sqlite_database

    DATABASES = {"default": sqlite_database(BASE_DIR / "db.sqlite3")}
    # or, in production:
    DATABASES = {"default": postgres_database(os.environ["DATABASE_URL"], pool_max_size=8)}

SQLite (the embedded default, one process): every transaction takes the
write lock when it begins (``BEGIN IMMEDIATE``) and waits up to
``SQLITE_BUSY_TIMEOUT`` seconds for it. With SQLite's default (``DEFERRED``)
a transaction that reads and then writes asks to upgrade its lock half way
through; when another request is writing, SQLite refuses the upgrade at once
and the request fails with "database is locked". The journal is in WAL
mode, so readers never wait for the writer, and ``synchronous=NORMAL`` (safe
with WAL: a power cut can lose the last commits, never corrupt the file).

PostgreSQL under ASGI: each request runs in a thread of its own, so a
persistent connection (``CONN_MAX_AGE`` other than 0) is never reused by the
next request and is left open until it ages out; with a few workers under
load that exhausts the server's ``max_connections``. Either close the
connection after each request (``CONN_MAX_AGE = 0``, the default here) or
share a bounded pool per process (psycopg's pool, ``pool_max_size``). Size it
so that ``workers × pool_max_size ≤ max_connections − headroom``
(docs/database.md).
"""

from __future__ import annotations

import os
from typing import Any

#: Seconds a SQLite connection waits for the write lock before giving up.
SQLITE_BUSY_TIMEOUT = 20

#: ``OPTIONS`` for a SQLite ``DATABASES`` entry (Django 5.2 or later).
SQLITE_OPTIONS: dict[str, Any] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": SQLITE_BUSY_TIMEOUT,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}

#: Seconds a request waits for a pooled PostgreSQL connection before failing.
POOL_TIMEOUT = 10


def sqlite_database(name: str | os.PathLike, **extra: Any) -> dict[str, Any]:
    """A SQLite ``DATABASES`` entry with the recommended options; ``extra`` adds or overrides keys."""
    entry: dict[str, Any] = {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": dict(SQLITE_OPTIONS),
    }
    options = extra.pop("OPTIONS", None)
    if options:
        entry["OPTIONS"].update(options)
    entry.update(extra)
    return entry


def postgres_options(*, pool_max_size: int | None = None, pool_min_size: int | None = None) -> dict[str, Any]:
    """``OPTIONS`` for PostgreSQL: a bounded psycopg pool when ``pool_max_size`` is given, else none.

    The pool needs ``psycopg[pool]`` (the ``psycopg_pool`` package).
    """
    if not pool_max_size:
        return {}
    if pool_max_size < 1:
        raise ValueError("pool_max_size must be a positive integer")
    if pool_min_size is None:
        pool_min_size = min(2, pool_max_size)
    return {"pool": {"min_size": pool_min_size, "max_size": pool_max_size, "timeout": POOL_TIMEOUT}}


def postgres_database(
    url: str, *, pool_max_size: int | None = None, pool_min_size: int | None = None
) -> dict[str, Any]:
    """A PostgreSQL ``DATABASES`` entry from a ``postgres://`` URL (needs ``dj-database-url``).

    Connections are never kept between requests (``CONN_MAX_AGE = 0``); with
    ``pool_max_size`` each process keeps at most that many in a pool instead.
    """
    import dj_database_url

    entry = dj_database_url.parse(url, conn_max_age=0)
    entry["CONN_MAX_AGE"] = 0
    options = postgres_options(pool_max_size=pool_max_size, pool_min_size=pool_min_size)
    if options:
        entry.setdefault("OPTIONS", {}).update(options)
    return entry
