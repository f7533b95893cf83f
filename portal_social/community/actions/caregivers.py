"""Caregivers in communities: a caregiver posts as themselves, and the post says so.

A caregiver takes part under their own community name, like anyone whose
role takes part in communities (the caregiver role does). When they write
while a link to a patient with the **community** scope is in force (today
within its dates, not ended or withdrawn: ``CaregiverRelation.objects.active()``),
the post is marked ``by_caregiver``, and its member card says "Caregiver".

Nothing on the post, the card or anywhere a reader looks names, links or
hints at the patient: the mark is a yes or no kept on the post, read from
the links when it is written. A link that ends later leaves the posts
written during it marked (they were written as a caregiver). A caregiver
whose links lack the community scope posts as themselves, unmarked.
"""

from __future__ import annotations

import datetime

from portal_social.core.models import CaregiverRelation

#: The caregiver link scope that lets a caregiver take part in communities as a caregiver.
SCOPE = "community"


def writes_as_caregiver(author, on: datetime.date | None = None) -> bool:
    """Whether ``author`` holds a caregiver link with the community scope in force on ``on`` (default
    today): one query. Never says for whom."""
    if author is None or getattr(author, "pk", None) is None:
        return False
    return CaregiverRelation.objects.active(on).with_scope(SCOPE).filter(caregiver_id=author.pk).exists()
