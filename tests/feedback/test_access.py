"""Who may open and work a feedback case, through HTTP: every kind of person, every kind of case, every action.

The matrix is the whole policy for feedback pages. A person who may not see
a case gets 404, exactly like a case that does not exist; a signed-out
visitor to the staff workspace is sent to sign in. PX staff see that a
medical-risk case exists (a summary page) but neither read nor work it;
risk managers do both.
"""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from portal_social.core import caregivers
from portal_social.core.models import AuditEvent, CaregiverRelation
from portal_social.feedback import actions
from portal_social.feedback.models import Case
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

ORDINARY_WORDS = "The receptionist laughed at me when I asked about my invoice."
RISK_WORDS = "After the nurse gave me the wrong tablets I fainted in the corridor."
ANONYMOUS_WORDS = "Nobody cleaned the waiting room toilets all afternoon."
RISK_SUMMARY = "Wrong tablets given"
WORDS = {"ordinary": ORDINARY_WORDS, "risk": RISK_WORDS, "anonymous": ANONYMOUS_WORDS}

OBJECTS = ("ordinary", "risk", "anonymous")
#: In the order the test takes them: the survey before the status change reopens the case, risk last.
ACTIONS = (
    "patient.get",
    "patient.survey",
    "px.get",
    "px.note",
    "px.recovery",
    "px.assign",
    "px.public_reply",
    "px.status",
    "px.risk",
)
PX_POSTS = tuple(a for a in ACTIONS if a.startswith("px.") and a != "px.get")

# Outcomes: "ok" (a page, or a change made and a redirect), "404", "login" (sent to sign in),
# "summary" (the restricted page: reference, status, owner only), "refused" (no change, no 404).
_NOTHING = dict.fromkeys(ACTIONS, "404")
_SUBMITTER = {**_NOTHING, "patient.get": "ok", "patient.survey": "ok"}
_WORKER = {**_NOTHING, **dict.fromkeys(("px.get", *PX_POSTS), "ok")}
_SIGNED_OUT = {**_NOTHING, **dict.fromkeys(("px.get", *PX_POSTS), "login")}

EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "patient": {"ordinary": _SUBMITTER, "risk": _SUBMITTER, "anonymous": _NOTHING},
    "other_patient": dict.fromkeys(OBJECTS, _NOTHING),
    "caregiver": {"ordinary": _SUBMITTER, "risk": _SUBMITTER, "anonymous": _NOTHING},
    "caregiver_link_ended": dict.fromkeys(OBJECTS, _NOTHING),
    "px": {
        "ordinary": _WORKER,
        "risk": {**_NOTHING, "px.get": "summary", **dict.fromkeys(PX_POSTS, "refused")},
        "anonymous": _WORKER,
    },
    # The risk manager works every case; a case already with risk management is not sent there twice.
    "risk": {
        "ordinary": _WORKER,
        "risk": {**_WORKER, "px.risk": "refused"},
        "anonymous": _WORKER,
    },
    "moderator": dict.fromkeys(OBJECTS, _NOTHING),
    "clinician": dict.fromkeys(OBJECTS, _NOTHING),
    "superuser": dict.fromkeys(OBJECTS, _NOTHING),
    "signed_out": dict.fromkeys(OBJECTS, _SIGNED_OUT),
}
ROWS = tuple(EXPECTED)


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)


def _make_case(world, submit, name: str, submitter) -> Case:
    if name == "anonymous":
        return submit(user=submitter, description=ANONYMOUS_WORDS, anonymous=True, summary="Dirty toilets")
    if name == "risk":
        case = submit(
            user=submitter,
            patient=world.patient,
            description=RISK_WORDS,
            summary=RISK_SUMMARY,
            categories=[world.safety],
        )
        assert case.medical_risk
        return case
    return submit(user=submitter, patient=world.patient, description=ORDINARY_WORDS, summary="Laughed at")


def _resolved(world, case: Case) -> Case:
    """Resolved by whoever may work it, so the submitter is asked the survey question."""
    worker = world.risk if case.medical_risk else world.px
    return actions.resolve_case(actor=worker, case=case, outcome=Case.Outcome.EXPLAINED)


def _row_user(world, row: str):
    if row == "signed_out":
        return None
    if row == "caregiver_link_ended":
        link = CaregiverRelation.objects.get(caregiver=world.caregiver, patient=world.patient)
        caregivers.end_caregiver_link(actor=world.patient, relation=link)
        return _fresh(world.caregiver)
    return _fresh(getattr(world, row))


def _state(case: Case) -> tuple:
    case = Case.objects.get(pk=case.pk)
    return (
        case.events.count(),
        case.recovery_actions.count(),
        case.status,
        case.medical_risk,
        case.first_replied_at,
        case.survey_score,
        case.owner_id,
        case.team_id,
    )


def _request(client, action: str, case: Case):
    side, what = action.split(".")
    if side == "patient":
        url = reverse("portal_social_feedback:case", args=[case.pk])
        return client.get(url) if what == "get" else client.post(url, {"score": "4"})
    if what == "get":
        return client.get(reverse("portal_social_px:case", args=[case.pk]))
    data = {
        "status": {"status": Case.Status.INVESTIGATING, "note": "Reopened to call the ward."},
        "note": {"note": "Called the ward manager."},
        "recovery": {"kind": "apology", "note": "Apology letter sent."},
        "assign": {"owner": ""},
    }.get(what, {})
    return client.post(reverse("portal_social_px:case_action", args=[case.pk, what]), data)


def _outcome(response, *, changed: bool, read: bool, content: str, words: str) -> str:
    code = response.status_code
    if code == 302 and response["Location"].startswith(reverse("account_login")):
        return "login" if not changed else "login+changed"
    if code == 404:
        return "404" if not changed else "404+changed"
    if response.wsgi_request.method == "GET":
        if code == 200 and "Only risk managers can read its details" in content:
            leaked = words in content or RISK_SUMMARY in content or read
            return "summary" if not leaked else "summary+leak"
        return "ok" if code == 200 and read and words in content else f"{code}:read={read}"
    if changed:
        return "ok" if code == 302 else f"{code}+changed"
    return "refused" if code in (200, 400, 403) else f"{code}:unchanged"


@pytest.mark.parametrize("row", ROWS)
def test_permission_matrix_through_the_pages(client, world, submit, row):
    client.raise_request_exception = False
    submitter = world.caregiver if row.startswith("caregiver") else world.patient
    objects = {name: _resolved(world, _make_case(world, submit, name, submitter)) for name in OBJECTS}
    user = _row_user(world, row)
    if user is not None:
        sign_in(client, user)
    found: dict[str, dict[str, str]] = {}
    for name, case in objects.items():
        found[name] = {}
        for action in ACTIONS:
            before, reads = _state(case), AuditEvent.objects.filter(action="phi.read").count()
            response = _request(client, action, case)
            content = response.content.decode()
            new_reads = AuditEvent.objects.filter(action="phi.read").order_by("sequence")[reads:]
            read = any(e.actor_id == getattr(user, "pk", None) and e.target_id == str(case.pk) for e in new_reads)
            found[name][action] = _outcome(
                response, changed=_state(case) != before, read=read, content=content, words=WORDS[name]
            )
    assert found == EXPECTED[row]


@pytest.mark.parametrize(("row", "what"), [("px", "risk"), ("px", "public_reply"), ("risk", "risk")])
def test_a_refused_risk_or_public_reply_action_answers_a_page(client, world, submit, row, what):
    client.raise_request_exception = False
    case = _make_case(world, submit, "risk", world.patient)
    before = _state(case)
    sign_in(client, getattr(world, row))
    response = client.post(reverse("portal_social_px:case_action", args=[case.pk, what]))
    assert _state(case) == before
    assert response.status_code in (200, 400, 403)


@pytest.mark.parametrize(
    ("row", "expected"),
    [(row, "ok" if row in ("px", "risk") else "login" if row == "signed_out" else "404") for row in ROWS],
)
def test_the_workspace_opens_to_px_staff_and_risk_managers_only(client, world, submit, row, expected):
    submit(description=ORDINARY_WORDS)
    user = _row_user(world, row)
    if user is not None:
        sign_in(client, user)
    for queue in ("mine", "open", "closed", "escalated"):
        response = client.get(reverse("portal_social_px:workspace"), {"queue": queue})
        if expected == "ok":
            assert response.status_code == 200, queue
        elif expected == "login":
            assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))
        else:
            assert response.status_code == 404, queue
    response = client.get(reverse("portal_social_px:new"))
    assert response.status_code == {"ok": 200, "login": 302, "404": 404}[expected]


def test_an_unknown_case_answers_404_like_a_refused_one(client, world, submit):
    unknown = uuid.uuid4()
    sign_in(client, world.px)
    assert client.get(reverse("portal_social_px:case", args=[unknown])).status_code == 404
    for what in ("status", "note", "recovery", "assign", "risk", "public_reply"):
        assert client.post(reverse("portal_social_px:case_action", args=[unknown, what])).status_code == 404
    case = submit()
    before = _state(case)
    assert client.post(reverse("portal_social_px:case_action", args=[case.pk, "delete"])).status_code == 404
    assert _state(case) == before


def test_the_px_summary_of_a_risk_case_names_reference_status_and_owner_only(client, world, submit):
    case = _make_case(world, submit, "risk", world.patient)
    case.refresh_from_db()
    sign_in(client, world.px)
    reads = AuditEvent.objects.filter(action="phi.read").count()
    response = client.get(reverse("portal_social_px:case", args=[case.pk]))
    content = response.content.decode()
    assert response.status_code == 200
    assert case.reference in content and case.get_status_display() in content
    assert case.team.name in content
    for secret in (RISK_WORDS, RISK_SUMMARY, "Maria", "Lopez"):
        assert secret not in content
    assert "Work this case" not in content
    assert AuditEvent.objects.filter(action="phi.read").count() == reads


def test_a_risk_manager_reads_and_works_the_risk_case(client, world, submit):
    case = _make_case(world, submit, "risk", world.patient)
    sign_in(client, world.risk)
    response = client.get(reverse("portal_social_px:case", args=[case.pk]))
    assert response.status_code == 200 and RISK_WORDS in response.content.decode()
    response = client.post(
        reverse("portal_social_px:case_action", args=[case.pk, "note"]), {"note": "Incident report filed."}
    )
    assert response.status_code == 302
    assert case.events.filter(kind="note", actor=world.risk).exists()
