"""Who may see and do what with feedback cases: rules and scopes of the one access policy.

* The **submitter** (a patient, or a caregiver acting for one) sees the cases
  they sent through the portal, and nothing else; a caregiver keeps seeing
  them only while their link still has the feedback scope. Anyone else's case
  answers 404.
* **Patient-experience staff** (``work_feedback_cases``) see and work every
  case, except the details of a case with **medical risk**: those are for
  risk managers (``receive_escalations``) only. Other PX staff see that such
  a case exists, its reference, status and owner (``view_summary``), never
  what it says.
* Nobody else: not moderators, not clinicians, not a superuser without a role.

Opening a case is a PHI read: ``access.require(user, "view", case)`` records
it, naming the patient.
"""

from __future__ import annotations

from django.db.models import Q

from portal_social.core import access, caregivers
from portal_social.feedback.models import Case

SUBMIT = "portal_social.submit_feedback"
WORK = "portal_social.work_feedback_cases"
RISK = "portal_social.receive_escalations"
REPORTS = "portal_social.view_feedback_reports"


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def is_staff(user) -> bool:
    return _signed_in(user) and access.holds(user, WORK)


def is_risk(user) -> bool:
    return _signed_in(user) and access.holds(user, RISK)


def proxied_patient_ids(user) -> frozenset:
    """Patients ``user`` may give feedback for today (a current caregiver link with the feedback scope)."""
    return caregivers.proxied_ids(user, "feedback")


def is_submitter(user, case: Case) -> bool:
    """``user`` sent ``case`` through the portal and may still follow it."""
    if not (_signed_in(user) and case.shared_with_submitter and case.submitted_by_id == user.pk):
        return False
    if not access.holds(user, SUBMIT):
        return False
    return case.patient_id in (None, user.pk) or case.patient_id in proxied_patient_ids(user)


def restricted(user, case: Case) -> bool:
    """A medical-risk case whose details ``user`` (PX staff without the risk role) may not read."""
    return case.medical_risk and not is_risk(user)


def may_work(user, case: Case) -> bool:
    return is_staff(user) and not restricted(user, case)


@access.rule(Case, "view", phi=True, patient=lambda case: case.patient_id)
def _submitter_or_staff_may_view(user, case) -> bool:
    return may_work(user, case) or is_submitter(user, case)


@access.rule(Case, "view_summary")
def _staff_see_that_a_case_exists(user, case) -> bool:
    return is_staff(user)


@access.rule(Case, "work")
def _staff_work_cases(user, case) -> bool:
    return may_work(user, case)


@access.rule(Case, "flag_risk")
def _staff_flag_risk(user, case) -> bool:
    """Any PX staff member may send a case to risk management (after which they no longer read it)."""
    return is_staff(user) and not case.medical_risk


@access.scope(Case)
def _cases_visible_to(user) -> Q:
    """Staff: every case (risk cases as a summary only; see ``restricted``). Submitters: their own."""
    if is_staff(user):
        return Q()
    if not access.holds(user, SUBMIT):
        return Q(pk__in=[])
    from portal_social.core.models import CaregiverRelation

    proxied = CaregiverRelation.objects.active().with_scope("feedback").filter(caregiver=user).values("patient_id")
    return Q(shared_with_submitter=True, submitted_by=user) & (
        Q(patient__isnull=True) | Q(patient=user) | Q(patient__in=proxied)
    )
