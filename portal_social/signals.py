"""Signals portal_social sends, and the receivers it connects.

Signals are sent after the transaction that caused them commits.
"""

from django.dispatch import Signal, receiver

#: Sent with ``user``, ``role``, ``granted_by``.
role_granted = Signal()
#: Sent with ``user``, ``role``, ``revoked_by``.
role_revoked = Signal()
#: Sent with ``relation``, ``actor``.
caregiver_linked = Signal()
#: Sent with ``relation``, ``actor``.
caregiver_unlinked = Signal()
#: Something people wrote that may need service recovery: a review of 2 stars
#: or less overall, a reported review (and, as features arrive, posts and
#: messages). ``sender`` is the model class; sent with ``target`` (the object),
#: ``cause`` (a code: "low_rating", "reported") and ``author_id`` (the
#: writer's user id, or None). Never the text. The feedback feature turns it
#: into a service-recovery case.
content_needs_attention = Signal()

try:
    from allauth.account.signals import user_signed_up
except ImportError:  # pragma: no cover - a system check reports missing allauth
    user_signed_up = None


if user_signed_up is not None:

    @receiver(user_signed_up, dispatch_uid="portal_social_populate_new_user")
    def _populate_new_user(sender, request, user, **kwargs):
        from portal_social.adapter import get_adapter

        get_adapter(request).populate_new_user(request, user)
