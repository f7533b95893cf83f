"""Row locks for write paths: one way to take them, on every database.

An action that reads a row, decides on what it read and then writes must
hold a lock on that row from the read to the commit; otherwise two
requests can both read the same state and both act on it.
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Model, QuerySet


def locked(target: QuerySet | Model) -> QuerySet:
    """``target``'s rows, to be locked (``SELECT … FOR UPDATE``) when the queryset is evaluated.

    ``target`` is a queryset, or a saved model instance (then its own row).
    Only the rows of the queryset's model are locked, not rows it joins
    through ``select_related``. Evaluate the result inside
    ``transaction.atomic()``; the lock is held until that transaction ends.
    A second caller blocks until then and reads the row as committed.

    Databases without row locks (SQLite) serialise writers on the whole
    database instead; there the queryset is returned unlocked.
    """
    queryset = type(target)._default_manager.filter(pk=target.pk) if isinstance(target, Model) else target
    features = connections[queryset.db].features
    if not features.has_select_for_update:
        return queryset
    if features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()
