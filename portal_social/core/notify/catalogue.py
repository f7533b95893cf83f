"""The notifications the shared core sends. Features register theirs in their own
``notifications`` module (``profiles/notifications.py``) with ``notify.register``.

Every text here is generic: it says that something happened and links to
the portal, where the person signs in and the access policy decides what
they see. No names, no conditions, no text anyone wrote.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from portal_social.core.notify import Template, register

register(
    Template(
        key="break_glass.used",
        subject=_("Emergency access to a patient record was used"),
        body=_(
            "A staff member used break-the-glass access to a patient record. Review the stated reason "
            "and the access in the audit log."
        ),
        url_name="portal_social_audit_log",
        mandatory=True,
    )
)
