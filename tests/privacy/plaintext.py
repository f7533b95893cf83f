"""Look for plaintext in a database's bytes: the canary values and the encodings they may take.

Text reaches storage in more shapes than its UTF-8 bytes: JSON columns
escape it (SQLite keeps Django's ``ensure_ascii`` output, so "é" is stored
as ``\\u00e9``), HTML escapes it, URLs quote it, full-text indexes lowercase
it. A needle is therefore searched in each of those shapes, case-insensitively.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus


@dataclass(frozen=True)
class Canary:
    """Distinctive values typed into one field; ``needles`` are what must never be found."""

    where: str
    values: dict[str, str]
    extra_needles: tuple[str, ...] = field(default=())

    @property
    def text(self) -> str:
        return " ".join(self.values.values())

    @property
    def needles(self) -> list[str]:
        found = list(self.values.values()) + list(self.extra_needles)
        for value in self.values.values():
            digits = "".join(ch for ch in value if ch.isdigit())
            # Long digit runs only: short ones occur by chance in tokens and timestamps.
            if len(digits) >= 8:
                found.append(digits)
        return sorted(set(found))


def phi_values(n: int, tag: str, surname: str) -> dict[str, str]:
    """One of each kind of identifier, made unique by ``n`` and ``tag``."""
    return {
        "phone": f"(617) 555-01{n:02d}",
        "ssn": f"SSN 531-84-22{n:02d}",
        "mrn": f"MRN 884129{n:02d}",
        "email": f"canary.{tag}@example.net",
        "address": f"{1400 + n} Elmwood Avenue",
        "name": f"Philippa {surname}",
    }


def encodings(needle: str) -> set[bytes]:
    """``needle`` as it may appear in stored bytes, lowercased."""
    needle = needle.lower()
    shapes = {
        needle,
        json.dumps(needle)[1:-1],
        json.dumps(needle, ensure_ascii=False)[1:-1],
        html.escape(needle),
        quote(needle),
        quote_plus(needle),
    }
    found = {shape.encode("utf-8") for shape in shapes}
    found.add(needle.encode("utf-16-le"))
    return found


def find_plaintext(data: bytes, canaries: list[Canary]) -> list[str]:
    """``where: needle`` for each needle of each canary found anywhere in ``data``."""
    haystack = data.lower()
    return [
        f"{canary.where}: {needle!r}"
        for canary in canaries
        for needle in canary.needles
        if any(shape in haystack for shape in encodings(needle))
    ]


def contains(data: bytes, needle: str) -> bool:
    """Whether ``needle`` is in ``data`` in any of its shapes (for control values)."""
    haystack = data.lower()
    return any(shape in haystack for shape in encodings(needle))


def sqlite_bytes(connection) -> bytes:
    """Every byte SQLite holds for the database, twice over.

    ``serialize()`` is the raw page image, free pages and all (what a disk
    would keep of deleted rows); ``VACUUM INTO`` writes a database file, which
    is read back whole. The test database lives in memory, so this is how its
    file is seen.
    """
    connection.ensure_connection()
    raw = connection.connection.serialize()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "copy.sqlite3"
        with connection.cursor() as cursor:
            cursor.execute("VACUUM INTO %s", [str(path)])
        return raw + path.read_bytes()


def pg_dump_bytes(connection) -> bytes:
    """A real ``pg_dump`` of the whole test database (schema and data)."""
    pg_bin = os.environ.get("PORTAL_SOCIAL_PG_BIN", "")
    pg_dump = os.path.join(pg_bin, "pg_dump") if pg_bin else "pg_dump"
    db = connection.settings_dict
    command = [pg_dump, "-h", str(db["HOST"]), "-p", str(db["PORT"]), "-U", db["USER"], "-d", db["NAME"]]
    return subprocess.run(
        command,
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""},
    ).stdout


def cache_bytes() -> bytes:
    """Every value in Django's default cache (local memory, or every string key of Redis)."""
    from django.core.cache import cache

    store = cache._cache
    if isinstance(store, dict):  # LocMemCache: key -> pickled value
        return b"\n".join(str(key).encode() + b"=" + value for key, value in store.items())
    client = store.get_client()  # RedisCache
    found = []
    for key in client.scan_iter(count=1000):
        if client.type(key) == b"string":
            found.append(key + b"=" + (client.get(key) or b""))
    return b"\n".join(found)
