"""Who may open the patient-experience pages, shared by the workspace, letters and reports views."""

from __future__ import annotations

import functools

from django.http import Http404

from portal_social.core import access, roles
from portal_social.core.views import role_required
from portal_social.feedback import rules
from portal_social.feedback.models import Case

#: The roles the patient-experience pages are for.
STAFF_ROLES = (roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER)


def restricted(admits):
    """A view for staff of :data:`STAFF_ROLES` (signed in, second factor, as ``role_required``) whom
    ``admits(user)`` lets in; anyone else gets 404, as for a page that does not exist."""

    def decorate(view):
        @role_required(*STAFF_ROLES)
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not admits(request.user):
                raise Http404()
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


#: The case workspace: PX staff and risk managers who work cases.
staff_only = restricted(rules.is_staff)
#: Reports: those who hold the reports permission.
reports_only = restricted(lambda user: access.holds(user, rules.REPORTS))


def case_for(request, case_id) -> Case:
    """The case ``request.user`` may see the summary of, or 404 alike for none and not allowed."""
    case = (
        Case.objects.select_related("owner", "team", "site", "service_line", "patient", "submitted_by")
        .filter(pk=case_id)
        .first()
    )
    if case is None or not access.can(request.user, "view_summary", case):
        raise Http404()
    return case


def small_int(value) -> int | None:
    """``value`` as a database id when it is a plain run of ASCII digits, else None."""
    value = str(value or "")
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None
