"""Concurrency tests: many clients at once against a database that other connections can see.

pytest-django's SQLite test database lives in memory, shared only by cache
between connections, which locks differently from a file. ``file_database``
copies the test database into a file and sends every connection a thread
opens from then on to that file, with the same ``OPTIONS`` the portal uses.
On PostgreSQL the test database is already a real one; nothing changes.
"""

import sqlite3
import threading

import pytest
from django.db import connection, connections


@pytest.fixture
def file_database(tmp_path, monkeypatch):
    """Call it after the test's data is committed; returns ``run(fn)``, which runs ``fn`` in a fresh thread."""

    def switch():
        if connection.vendor != "sqlite" or not connection.is_in_memory_db():
            return
        path = tmp_path / "concurrency.sqlite3"
        target = sqlite3.connect(path)
        connection.ensure_connection()
        connection.connection.backup(target)
        target.close()
        monkeypatch.setitem(connections.settings, "default", {**connections.settings["default"], "NAME": str(path)})

    def run(fn, *args):
        """Run ``fn`` in a thread of its own (with its own connection) and return its result."""
        result = {}

        def target():
            try:
                result["value"] = fn(*args)
            except BaseException as exc:  # re-raised in the caller
                result["error"] = exc
            finally:
                connections.close_all()

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if "error" in result:
            raise result["error"]
        return result["value"]

    run.switch = switch
    return run
