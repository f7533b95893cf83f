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
#: A review that may need service recovery: 2 stars or less overall, or
#: reported. Sent with ``review`` and ``cause`` ("low_rating" or "reported").
#: The feedback feature turns it into a service-recovery case.
review_needs_attention = Signal()

try:
    from allauth.account.signals import user_signed_up
except ImportError:  # pragma: no cover - a system check reports missing allauth
    user_signed_up = None


if user_signed_up is not None:

    @receiver(user_signed_up, dispatch_uid="portal_social_populate_new_user")
    def _populate_new_user(sender, request, user, **kwargs):
        from portal_social.adapter import get_adapter

        get_adapter(request).populate_new_user(request, user)
