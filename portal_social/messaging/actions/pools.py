"""Pool membership, however it changes (the Wagtail admin, a sync from the EHR): sockets re-ask the policy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import signals

from portal_social.core import realtime
from portal_social.messaging.models import (
    PoolMember,
)

if TYPE_CHECKING:
    pass

#: Readers of a conversation follow its stream: a new message, a retraction, a read receipt.


# Pool membership, however it changes (the Wagtail admin, a sync from the EHR) -------------------------


def _remember_member(sender, instance, **kwargs):
    previous = PoolMember.objects.filter(pk=instance.pk).values_list("user_id", flat=True).first()
    instance._portal_social_previous_user = previous


def _recheck_member(sender, instance, **kwargs):
    # Whoever was or is this member: their open sockets ask the access policy again.
    realtime.recheck_access_after_commit([instance.user_id, getattr(instance, "_portal_social_previous_user", None)])


signals.pre_save.connect(_remember_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_previous")
signals.post_save.connect(_recheck_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_saved")
signals.post_delete.connect(_recheck_member, sender=PoolMember, dispatch_uid="portal_social_pool_member_deleted")
