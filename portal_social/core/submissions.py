"""One submission, one row: how a form sent twice (a double click, a retry after a timeout) writes once.

Each form carries a one-use token (``core.forms.OneUseTokenMixin``); the
feature's table has a unique constraint on (author, token). :func:`once`
runs the write in a transaction and, when a concurrent twin of the same
submission committed first (the constraint refuses the second), returns the
twin's row instead of failing.

.. _resent_elsewhere:

A token is the same submission only with the same words to the same place.
Before writing, each action looks for the row its token already made: when
that row holds the same words in the same place, it is the answer (a double
click); when it holds other words or sits elsewhere (a form the browser's
Back button brought back, then edited; a forged form), the action writes the
new words without the token. Answering "sent" with the earlier row would
lose what the person wrote this time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

from django.db import IntegrityError, transaction

T = TypeVar("T")


def once(write: Callable[[], T], existing: Callable[[], T | None], *, cleanup: Callable[[], object] | None = None) -> T:
    """``write()`` in one transaction; on a unique-constraint clash, ``existing()`` (the twin that won).

    ``cleanup`` runs whenever the write did not commit (a clash or any error): a
    write that saved files outside the database removes them there.
    The clash is raised again when ``existing()`` finds nothing (it was another
    constraint).
    """
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        if cleanup is not None:
            cleanup()
        again = existing()
        if again is None:
            raise
        return again
    except BaseException:
        if cleanup is not None:
            cleanup()
        raise


def remove_all(names: Iterable[str], remove: Callable[[str], object]) -> Callable[[], None]:
    """A ``cleanup`` for :func:`once` that calls ``remove(name)`` for each name (read when it runs)."""

    def cleanup() -> None:
        for name in list(names):
            remove(name)

    return cleanup
