"""A throwaway database for a benchmark: a SQLite file in a temporary folder, or, when
``DATABASE_URL`` names PostgreSQL (``scripts/with-services.sh``), a database of its own."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def create_database(name: str) -> Callable[[], None]:
    """Point the settings at a new empty database called ``name``; returns a function that removes it."""
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        folder = tempfile.mkdtemp(prefix=f"{name.replace('_', '-')}-")
        os.environ["PORTAL_DB_PATH"] = str(Path(folder) / "bench.sqlite3")
        return lambda: shutil.rmtree(folder, ignore_errors=True)

    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise SystemExit(f"DATABASE_URL must be PostgreSQL for this bench, not {parts.scheme!r}")
    admin_url = urlunsplit(parts._replace(scheme="postgresql"))

    def run(statement):
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(statement)

    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    run(drop)
    run(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + name))

    def remove():
        from django.db import connections

        connections.close_all()
        run(drop)

    return remove
