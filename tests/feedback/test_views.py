"""The feedback pages through the test client: the portal form, a person's own cases, the PX workspace.

What is kept from whom (internal notes, risk cases, PHI in addresses), what
is audited, how forms answer bad input, and how many queries each page makes.
Who may open what at all is the matrix in ``test_access.py``.
"""

from __future__ import annotations

import re
import uuid

import pytest

from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.feedback import actions
from portal_social.feedback.models import Case, CaseEvent
from portal_social.profiles.models import Location
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

NEW = "/feedback/new/"
INDEX = "/feedback/"
WORKSPACE = "/px/"
STAFF_NEW = "/px/new/"
BULK = "/px/assign/"
WORDS = "The receptionist laughed at me when I asked about my invoice."
RISK_WORDS = "After the nurse gave me the wrong tablets I fainted in the corridor."
NOTE = "Spoke to the front desk manager; a warning is on file."
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def page(case) -> str:
    return f"/feedback/c/{case.pk}/"


def px_page(case) -> str:
    return f"/px/c/{case.pk}/"


def px_action(case, what: str) -> str:
    return f"/px/c/{case.pk}/{what}/"


def text(response) -> str:
    return response.content.decode()


def form_data(**changes) -> dict:
    data = {"type": "complaint", "summary": "Laughed at", "description": WORDS, "submission": str(uuid.uuid4())}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def staff_data(**changes) -> dict:
    data = {
        "channel": "phone",
        "type": "complaint",
        "severity": "medium",
        "summary": "Rude on the phone",
        "description": "The caller says the switchboard hung up on her twice.",
        "contact_method": "phone",
        "contact_details": "555-0100",
    }
    data.update(changes)
    return data


@pytest.fixture
def risk_case(world, submit):
    return submit(description=RISK_WORDS, summary="Wrong tablets", categories=[world.safety])


def reads_by(user, case):
    return AuditEvent.objects.filter(action="phi.read", actor_id=user.pk, target_id=str(case.pk))


# What is kept back -------------------------------------------------------------------------------


def test_the_workspace_shows_a_risk_case_as_restricted_and_never_its_words(client, world, submit, risk_case):
    ordinary = submit(description=WORDS, summary="Laughed at")
    sign_in(client, world.px)
    content = text(client.get(WORKSPACE, {"queue": "open"}))
    assert ordinary.reference in content and "Laughed at" in content
    assert risk_case.reference in content and "Restricted: with risk management" in content
    assert "Wrong tablets" not in content and RISK_WORDS not in content
    assert WORDS not in content  # the workspace lists summaries, never descriptions
    sign_in(client, world.risk)
    assert "Wrong tablets" in text(client.get(WORKSPACE, {"queue": "open"}))


def test_the_patient_page_never_shows_internal_notes_owners_or_contact_attempts(client, world, submit):
    case = submit(description=WORDS)
    actions.add_note(actor=world.px, case=case, note=NOTE)
    actions.add_note(actor=world.px, case=case, note="Voicemail left on the mobile.", contact="phone:left_message")
    actions.record_recovery(actor=world.px, case=case, kind="gift", note="Parking voucher posted.")
    actions.assign_case(actor=world.px, case=case, owner=world.px2)
    actions.change_status(actor=world.px, case=case, status="investigating", note="Checking the rota for Tuesday.")
    sign_in(client, world.patient)
    response = client.get(page(case))
    content = text(response)
    assert response.status_code == 200 and WORDS in content and "Our team is looking into it." in content
    for secret in (
        NOTE,
        "Voicemail",
        "Parking voucher",
        "rota for Tuesday",
        "Omar Said",
        "Paula Xu",
        "Patient relations",
    ):
        assert secret not in content
    sign_in(client, world.px)
    staff_view = text(client.get(px_page(case)))
    assert NOTE in staff_view and "rota for Tuesday" in staff_view


def test_no_phi_in_any_address_or_redirect(client, world, submit, risk_case):
    sign_in(client, world.patient)
    sent = client.post(NEW, form_data())
    assert re.fullmatch(rf"/feedback/c/{UUID}/\?sent=1", sent["Location"])
    mine = text(client.get(INDEX))
    sign_in(client, world.px)
    created = client.post(STAFF_NEW, staff_data())
    assert re.fullmatch(rf"/px/c/{UUID}/\?done=created", created["Location"])
    case = Case.objects.get(channel="phone")
    noted = client.post(px_action(case, "note"), {"note": NOTE})
    assert noted["Location"] == f"/px/c/{case.pk}/?done=note"
    sent_away = client.post(px_action(case, "risk"))
    assert re.fullmatch(rf"/px/(c/{UUID}/\?done=risk|\?queue=mine&risk_sent=1)", sent_away["Location"])
    listing = text(client.get(WORKSPACE, {"queue": "open"}))
    for content in (mine, listing):
        links = re.findall(r'href="([^"]+)"', content)
        case_links = [link for link in links if link.startswith(("/feedback/c/", "/px/c/"))]
        assert case_links and all(re.fullmatch(rf"/(feedback|px)/c/{UUID}/", link) for link in case_links)
        assert not any(word in link for link in links for word in ("Maria", "Lopez", "invoice", "tablets", "555"))
    for params in Notification.objects.values_list("params", flat=True):
        assert set(params) <= {"case"}


# Audit ------------------------------------------------------------------------------------------


def test_sending_a_case_to_risk_management_returns_px_staff_to_the_workspace(client, world, submit):
    case = submit(description=WORDS)
    sign_in(client, world.px)
    response = client.post(px_action(case, "risk"))
    assert Case.objects.get(pk=case.pk).medical_risk
    assert response["Location"] == "/px/?queue=mine&risk_sent=1"


def test_opening_a_px_case_records_a_phi_read_naming_the_patient(client, world, submit):
    case = submit()
    sign_in(client, world.px)
    assert client.get(px_page(case)).status_code == 200
    (read,) = reads_by(world.px, case)
    assert read.patient_id == world.patient.pk
    assert WORDS not in str(read.details)


def test_listing_a_queue_records_one_queue_list_event_and_a_restricted_only_queue_records_none(
    client, world, submit, risk_case
):
    submit()
    submit(description="The lift was broken for a week.")
    sign_in(client, world.px)
    client.get(WORKSPACE, {"queue": "open"})
    (listed,) = AuditEvent.objects.filter(action="feedback.queue_list", actor_id=world.px.pk)
    assert listed.details["queue"] == "open" and listed.details["shown"] == 2
    assert listed.patient_id is None
    client.get(WORKSPACE, {"queue": "open", "risk": "1"})  # only the restricted row
    assert AuditEvent.objects.filter(action="feedback.queue_list").count() == 1


def test_the_patient_opening_their_own_case_records_a_phi_read(client, world, submit):
    case = submit()
    sign_in(client, world.patient)
    client.get(page(case))
    (read,) = reads_by(world.patient, case)
    assert read.patient_id == world.patient.pk


# The portal form --------------------------------------------------------------------------------


def test_a_patient_sends_feedback_and_lands_on_its_page(client, world):
    sign_in(client, world.patient)
    assert "not for emergencies" in text(client.get(NEW))
    response = client.post(NEW, form_data())
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/feedback/c/{case.pk}/?sent=1"
    assert (case.patient_id, case.submitted_by_id, case.channel) == (world.patient.pk, world.patient.pk, "portal")
    assert Notification.objects.filter(recipient=world.patient, key="feedback.received").count() == 1
    landing = text(client.get(response["Location"]))
    assert case.reference in landing and "reached our patient experience team" in landing


def test_a_signed_out_visitor_sends_anonymous_feedback_and_gets_a_reference(client, world):
    response = client.post(NEW, form_data(contact_requested="on", contact_method="email", contact_details="a@b.org"))
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.reference in text(response) and "We will get back to you" in text(response)
    assert case.patient_id is None and case.submitted_by_id is None and not case.shared_with_submitter
    assert "a@b.org" not in text(response)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"description": ""}, "Tell us what happened."),
        (
            {"contact_requested": "on", "contact_method": "phone", "contact_details": ""},
            "Tell us the phone number, email or address to use.",
        ),
        ({"description": "x" * 5001}, "Ensure this value has at most 5000 characters"),
        ({"type": "grievance"}, "Choose one."),
    ],
    ids=["empty", "contact-without-details", "too-long", "wrong-type"],
)
def test_bad_input_answers_400_keeps_what_was_typed_and_saves_nothing(client, world, changes, message):
    sign_in(client, world.patient)
    data = form_data(**changes)
    response = client.post(NEW, data)
    content = text(response)
    assert response.status_code == 400
    assert message in content
    if data["description"]:
        assert data["description"] in content
    assert "Laughed at" in content
    assert not Case.objects.exists()


def test_the_same_form_sent_twice_makes_one_case(client, world):
    sign_in(client, world.patient)
    data = form_data()
    first, second = client.post(NEW, data), client.post(NEW, data)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.count() == 1
    assert Notification.objects.filter(key="feedback.received").count() == 1


def test_the_eleventh_feedback_in_an_hour_is_refused_with_a_clear_message(client, world):
    sign_in(client, world.patient)
    for n in range(10):
        assert client.post(NEW, form_data(description=f"Complaint number {n}.")).status_code == 302
    response = client.post(NEW, form_data(description="One more complaint."))
    assert response.status_code == 400
    assert "You have done that too many times" in text(response) and "One more complaint." in text(response)
    assert Case.objects.count() == 10


# Staff entry ------------------------------------------------------------------------------------


def test_staff_enter_a_phone_call(client, world):
    sign_in(client, world.px)
    assert client.get(STAFF_NEW).status_code == 200
    response = client.post(STAFF_NEW, staff_data())
    case = Case.objects.get()
    assert response["Location"] == f"/px/c/{case.pk}/?done=created"
    assert (case.channel, case.submitted_by_id, case.contact_details) == ("phone", world.px.pk, "555-0100")
    assert not case.handle_discreetly
    assert "555-0100" in text(client.get(px_page(case)))


def test_staff_enter_a_private_social_post_to_be_handled_discreetly(client, world):
    sign_in(client, world.px)
    response = client.post(
        STAFF_NEW,
        staff_data(
            channel="social",
            platform="facebook",
            post_public="0",
            handle="@maria.l",
            how_learned="A nurse saw it in a closed group.",
            contact_method="",
            contact_details="",
        ),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.handle_discreetly and case.post_public is False and case.platform == "facebook"
    content = text(client.get(px_page(case)))
    assert "Handle discreetly: this came from a private post." in content
    assert "Do not mention the post" in content


def test_staff_entry_of_a_social_post_without_saying_if_it_was_public_answers_400(client, world):
    sign_in(client, world.px)
    response = client.post(STAFF_NEW, staff_data(channel="social", platform="x"))
    assert response.status_code == 400
    assert "Say whether the post was public or private." in text(response)
    assert not Case.objects.exists()


# Working a case ---------------------------------------------------------------------------------


def test_an_invalid_status_change_answers_400_with_the_reason_and_changes_nothing(client, world, submit):
    case = actions.acknowledge_case(actor=world.px, case=submit())
    events = case.events.count()
    sign_in(client, world.px)
    response = client.post(px_action(case, "status"), {"status": "closed"})
    assert response.status_code == 400
    assert "Resolve the case, with its outcome, before closing it." in text(response)
    case.refresh_from_db()
    assert case.status == "acknowledged" and case.events.count() == events


def test_resolving_needs_an_outcome_then_the_submitter_answers_the_survey(client, world, submit):
    case = submit()
    sign_in(client, world.px)
    assert client.post(px_action(case, "status"), {"status": "resolved"}).status_code == 400
    response = client.post(px_action(case, "status"), {"status": "resolved", "outcome": "resolved"})
    assert response["Location"] == f"/px/c/{case.pk}/?done=status"
    sign_in(client, world.patient)
    assert "How did we do?" in text(client.get(page(case)))
    assert client.post(page(case), {"score": "9"}).status_code == 400
    assert client.post(page(case), {"score": "5"})["Location"] == f"/feedback/c/{case.pk}/?answered=1"
    assert client.post(page(case), {"score": "1"}).status_code == 400  # once only
    case.refresh_from_db()
    assert case.survey_score == 5


def test_bulk_assign_gives_each_ticked_case_to_the_chosen_person_and_refuses_the_risk_case(
    client, world, submit, risk_case
):
    cases = [submit(description=f"Complaint {n}.") for n in range(3)]
    sign_in(client, world.px)
    response = client.post(
        BULK,
        {"case": [str(c.pk) for c in [*cases, risk_case]] + ["not-a-uuid"], "owner": world.px2.pk, "queue": "team"},
    )
    assert response["Location"] == "/px/?queue=team&assigned=3&refused=1"
    assert set(Case.objects.filter(pk__in=[c.pk for c in cases]).values_list("owner_id", flat=True)) == {world.px2.pk}
    risk_case.refresh_from_db()
    assert risk_case.owner_id != world.px2.pk
    assert "Assigned: 3. Not assigned: 1." in text(client.get(response["Location"]))


def test_assigning_to_someone_outside_the_team_is_refused(client, world, submit):
    case = submit()
    owner = Case.objects.get(pk=case.pk).owner_id
    sign_in(client, world.px)
    for outsider in (world.risk, world.other_patient, world.clinician):
        assert client.post(BULK, {"case": [str(case.pk)], "owner": outsider.pk}).status_code == 404
        assert client.post(px_action(case, "assign"), {"owner": outsider.pk}).status_code == 400
    assert client.post(BULK, {"case": [str(case.pk)], "owner": "1 OR 1=1"}).status_code == 404
    assert Case.objects.get(pk=case.pk).owner_id == owner
    assert not case.events.filter(kind=CaseEvent.Kind.ASSIGNED).exists()


def test_tampered_addresses_answer_404(client, world, submit):
    theirs = submit(user=world.other_patient, description="The ward was too noisy at night.")
    sign_in(client, world.patient)
    assert client.get(page(theirs)).status_code == 404
    assert client.post(page(theirs), {"score": "5"}).status_code == 404
    for path in ("/feedback/c/not-a-uuid/", "/feedback/c/12/", f"/feedback/c/{str(theirs.pk)[:-1]}/"):
        assert client.get(path).status_code == 404, path
    sign_in(client, world.px)
    for path in ("/px/c/not-a-uuid/", "/px/c/12/", "/px/c/12/note/"):
        assert client.get(path).status_code == 404, path
    assert client.get(WORKSPACE, {"queue": "nonsense", "category": "1;DROP", "site": "-1"}).status_code == 200


# Bounded queries --------------------------------------------------------------------------------

#: Each page makes a fixed number of queries whatever its size; the ceiling is the measured count plus two.
WORKSPACE_QUERIES = 31  # measured 29
PX_CASE_QUERIES = 22  # measured 20
PATIENT_INDEX_QUERIES = 12  # measured 10


def _repeated(small, large) -> str:
    """The queries (literals masked) the larger page makes more often than the smaller: what grows with size."""
    from collections import Counter

    def shape(sql: str) -> str:
        return re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "?", sql))

    counts_small = Counter(shape(q["sql"]) for q in small.captured_queries)
    counts_large = Counter(shape(q["sql"]) for q in large.captured_queries)
    grown = [
        f"{n - counts_small.get(sql, 0)} more: {sql}" for sql, n in counts_large.items() if n > counts_small.get(sql, 0)
    ]
    return f"{len(small)} queries at the small size, {len(large)} at the large size\n" + "\n".join(grown)


def _staff_cases(world, count: int, offset: int = 0) -> None:
    sites = [
        Location.objects.get_or_create(name=f"Site {n}", slug=f"site-{n}", address="1 Main Street")[0] for n in range(3)
    ]
    categories = [world.communication.pk, world.billing.pk]
    for n in range(offset, offset + count):
        case = actions.record_case(
            actor=world.px,
            channel="phone",
            type="complaint",
            summary=f"Summary {n}",
            description=f"Complaint {n}.",
            categories=categories[: n % 3],
            site=sites[n % 3],
        )
        if n % 2:
            actions.assign_case(actor=world.px, case=case, owner=world.px2)
        if n % 5 == 0:
            actions.acknowledge_case(actor=world.px, case=case)


def test_the_workspace_makes_the_same_number_of_queries_for_3_and_30_cases(
    client, world, django_assert_max_num_queries
):
    _staff_cases(world, 3)
    sign_in(client, world.px)
    client.get(WORKSPACE, {"queue": "open"})
    with django_assert_max_num_queries(WORKSPACE_QUERIES) as few:
        assert client.get(WORKSPACE, {"queue": "open"}).status_code == 200
    _staff_cases(world, 27, offset=3)
    with django_assert_max_num_queries(WORKSPACE_QUERIES) as many:
        response = client.get(WORKSPACE, {"queue": "open"})
    assert text(response).count('name="case" value=') == 30
    assert len(few) == len(many), _repeated(few, many)


def test_the_px_case_page_makes_the_same_number_of_queries_for_5_and_40_events(
    client, world, submit, django_assert_max_num_queries
):
    def case_with(events: int) -> Case:
        case = submit(description=f"A case with {events} events.")
        while case.events.count() < events:
            actions.add_note(actor=world.px2, case=case, note=f"Note {case.events.count()}.")
        actions.record_recovery(actor=world.px2, case=case, kind="apology")
        return case

    warm, small, large = case_with(5), case_with(5), case_with(40)
    sign_in(client, world.px)
    client.get(px_page(warm))
    with django_assert_max_num_queries(PX_CASE_QUERIES) as few:
        assert client.get(px_page(small)).status_code == 200
    with django_assert_max_num_queries(PX_CASE_QUERIES) as many:
        response = client.get(px_page(large))
    assert "Note 38." in text(response)
    assert len(few) == len(many), _repeated(few, many)


def test_the_patient_index_makes_the_same_number_of_queries_for_2_and_20_cases(
    client, world, submit, settings, django_assert_max_num_queries
):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"feedback": "1000/h"}
    for n in range(2):
        submit(description=f"Feedback {n}.")
    sign_in(client, world.patient)
    client.get(INDEX)
    with django_assert_max_num_queries(PATIENT_INDEX_QUERIES) as few:
        assert client.get(INDEX).status_code == 200
    for n in range(2, 20):
        case = submit(description=f"Feedback {n}.")
        if n % 3 == 0:
            actions.acknowledge_case(actor=world.px, case=case)
    with django_assert_max_num_queries(PATIENT_INDEX_QUERIES) as many:
        response = client.get(INDEX)
    assert text(response).count('<li class="card">') == 20
    assert len(few) == len(many), _repeated(few, many)


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _social_post(client, **extra):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "channel": "social",
        "type": "complaint",
        "severity": "medium",
        "description": "A post about a long wait in the emergency department.",
        "platform": "facebook",
        "post_public": "1",
        **extra,
    }
    data.setdefault("screenshot", SimpleUploadedFile("Maria Lopez post.png", PNG, content_type="image/png"))
    return client.post("/px/new/", data)


def test_a_screenshot_is_kept_encrypted_with_the_case_and_downloaded_only_by_staff_who_read_it(client, world):
    from portal_social.core.models import AuditEvent
    from portal_social.feedback.models import CaseAttachment

    sign_in(client, world.px)
    response = _social_post(client)
    assert response.status_code == 302, response.content.decode()[:500]
    kept = CaseAttachment.objects.get()
    assert kept.content_type == "image/png" and kept.size == len(PNG)
    with open(kept.file.storage.path(kept.file.name), "rb") as raw:
        assert PNG not in raw.read()  # encrypted on disk
    assert "Maria" not in kept.file.name
    page = client.get(f"/px/c/{kept.case_id}/").content.decode()
    link = f"/px/c/{kept.case_id}/file/{kept.pk}/"
    assert link in page
    download = client.get(link)
    assert download.status_code == 200 and download.content == PNG
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Disposition"].startswith("attachment")
    assert AuditEvent.objects.filter(action="phi.read", actor_id=world.px.pk, target_id=str(kept.case_id)).exists()
    for other in (world.patient, world.moderator, world.superuser):
        client.logout()
        sign_in(client, other)
        assert client.get(link).status_code == 404


def test_a_screenshot_that_is_not_an_image_or_pdf_is_refused_and_nothing_is_saved(client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from portal_social.feedback.models import Case, CaseAttachment

    sign_in(client, world.px)
    fake = SimpleUploadedFile("post.png", b"<script>alert(1)</script>", content_type="image/png")
    response = _social_post(client, screenshot=fake)
    assert response.status_code == 400
    assert "cannot be sent" in response.content.decode()
    assert not Case.objects.exists() and not CaseAttachment.objects.exists()
