"""Community pages: search (see the package docstring)."""

from __future__ import annotations


def annotate_thread(request, thread, rows: list[dict], context: dict) -> None:
    """Add this module's per-post and per-thread data to a thread page (a fixed number of queries)."""
