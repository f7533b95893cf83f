"""Why content is in the queue: reason codes, their labels, and what each adds to an item's score.

The score orders nothing by itself (urgent first, then oldest, is the
queue's order); it tells a moderator how much evidence there is, and lets
a feature auto-hide content once flags add up. A feature may register codes
of its own with :func:`register`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Code:
    code: str
    label: Any
    weight: Decimal
    #: A reason with this code makes its item urgent.
    urgent: bool = False


@dataclass(frozen=True)
class Reason:
    """A reason to add to an item: its code, who added it (None: screening), codes-only details, a note.

    ``weight`` overrides the code's weight for this one reason (a flag from a
    trusted member counts more than one from a new member).
    """

    code: str
    added_by: Any = None
    details: dict = field(default_factory=dict)
    note: str = ""
    weight: Decimal | None = None


_codes: dict[str, Code] = {}


def register(code: str, label: Any, weight: int | str | Decimal, *, urgent: bool = False) -> Code:
    entry = Code(code, label, Decimal(str(weight)), urgent)
    if code in _codes and _codes[code] != entry:
        raise ValueError(f"Moderation reason {code!r} is registered twice")
    _codes[code] = entry
    return entry


register("phi", _("Personal details found"), 5)
register("language", _("Watched words"), 3)
register("crisis", _("Crisis language"), 10, urgent=True)
register("new_account", _("New account"), 1)
register("flag", _("Flagged by a reader"), 2)
register("appeal", _("Appeal"), 3)
register("escalated", _("Escalated by a moderator"), 0, urgent=True)


def get(code: str) -> Code:
    """The registered code; an unknown one (a feature removed since) counts 1 and is shown as its code."""
    return _codes.get(code) or Code(code, code, Decimal(1))


def codes() -> list[Code]:
    return list(_codes.values())


def label(code: str) -> str:
    return str(get(code).label)


def from_hold_codes(hold_reasons) -> list[Reason]:
    """Queue reasons for content a feature holds, from its stored hold codes (``{"code", "kinds"?}``)."""
    return [
        Reason(str(held.get("code") or "held"), details={"kinds": list(held["kinds"])} if held.get("kinds") else {})
        for held in hold_reasons
    ]
