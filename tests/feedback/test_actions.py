"""Feedback actions: intake, working a case, medical risk, the survey, content that becomes a case, breaches.

Times are frozen on Monday 1 June 2026, 10:00 in New York (the default
calendar: Monday to Friday 09:00-17:00, US holidays), so a complaint is
due to be acknowledged by Tuesday 17:00 and resolved by Thursday 17:00.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import connection
from django.utils import timezone
from freezegun import freeze_time

from portal_social.conf import app_settings
from portal_social.core import access, calendar, roles
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.feedback import actions, sla, tasks
from portal_social.feedback.actions import TRANSITIONS, FeedbackDenied
from portal_social.feedback.models import Case, CaseCounter, CaseEvent, CasePause, RecoveryAction, TeamMember
from portal_social.profiles.models import Location
from tests.core.test_calendar_schedules import NEW_YORK, local

pytestmark = pytest.mark.django_db

UTC = dt.UTC
S = Case.Status
WORDS = "The parking attendant shouted at my elderly father"


def ny(*args):
    return local(NEW_YORK, *args)


MONDAY = ny(2026, 6, 1, 10)


@pytest.fixture
def clock():
    with freeze_time(MONDAY.astimezone(UTC)) as frozen:
        yield lambda *args: frozen.move_to(ny(*args).astimezone(UTC))


def codes(error: ValidationError) -> list[str]:
    return [e.code for e in error.error_dict.get(NON_FIELD_ERRORS, [])]


def told(key, **filters):
    return list(Notification.objects.filter(key=key, **filters).values_list("recipient_id", flat=True))


def audit(case):
    return AuditEvent.objects.filter(target_id=str(case.pk))


# --------------------------------------------------------------------------- intake


def test_references_count_up_per_local_year(world, submit, clock):
    first, second = submit(), submit(description="The wait was two hours.")
    assert (first.reference, second.reference) == ("PX-2026-000001", "PX-2026-000002")
    clock(2026, 12, 31, 22)  # 03:00 on 1 January in UTC, still 2026 here
    assert submit(description="No one answered the phone.").reference == "PX-2026-000003"
    clock(2027, 1, 4, 9)
    assert submit(description="The room was cold.").reference == "PX-2027-000001"
    assert dict(CaseCounter.objects.values_list("year", "last")) == {2026: 3, 2027: 1}


def test_what_a_person_wrote_is_encrypted_at_rest(world, submit):
    case = submit(
        description=WORDS,
        summary="Shouting in the car park",
        contact_requested=True,
        contact_method="phone",
        contact_details="Call Maria on 617-555-0142",
    )
    columns = ("summary", "description_source", "description_html", "contact_details")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(columns)} FROM {Case._meta.db_table} WHERE id = %s",
            [Case._meta.pk.get_db_prep_value(case.pk, connection)],
        )
        raw = dict(zip(columns, cursor.fetchone(), strict=True))
    for column, value in raw.items():
        assert value.startswith("fernet:"), column
        for word in ("parking", "attendant", "Shouting", "Maria", "617-555-0142"):
            assert word not in value
    case.refresh_from_db()
    assert case.description_source == WORDS and case.contact_details == "Call Maria on 617-555-0142"
    assert "shouted" in case.description_html


def test_the_same_submission_twice_makes_one_case(world, submit):
    token = uuid.uuid4()
    first = submit(submission=token)
    again = submit(submission=token)
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert told("feedback.received") == [world.patient.pk]
    assert submit(submission=uuid.uuid4()).pk != first.pk


def test_a_token_sent_again_with_other_words_makes_a_new_case(world, submit):
    # A form the Back button brought back and edited: the second account of it is not lost.
    token = uuid.uuid4()
    first = submit(submission=token)
    edited = submit(submission=token, description="The front desk was rude, and nobody called me back.")
    assert edited.pk != first.pk and Case.objects.count() == 2
    assert edited.description_source == "The front desk was rude, and nobody called me back."


@pytest.mark.parametrize("who", ["anonymous_choice", "signed_out"])
def test_anonymous_feedback_keeps_no_link_to_who_sent_it(world, submit, who):
    if who == "signed_out":
        case = actions.submit_feedback(user=AnonymousUser(), type="complaint", description=WORDS)
    else:
        case = submit(anonymous=True, submission=uuid.uuid4())
    assert (case.patient, case.submitted_by, case.shared_with_submitter, case.submission) == (None, None, False, None)
    assert told("feedback.received") == []
    with pytest.raises(ValidationError) as refused:
        submit(anonymous=True, contact_requested=True, contact_method="portal")
    assert "contact_method" in refused.value.message_dict


def test_a_caregiver_gives_feedback_for_their_linked_patient_only(world, submit):
    case = submit(user=world.caregiver, patient=world.patient)
    assert (case.patient, case.submitted_by, case.shared_with_submitter) == (world.patient, world.caregiver, True)
    with pytest.raises(access.NotFound):
        submit(user=world.caregiver, patient=world.other_patient)
    with pytest.raises(access.NotFound):
        submit(user=world.patient, patient=world.other_patient)


@pytest.mark.parametrize("who", ["clinician", "moderator", "superuser"])
def test_people_without_the_feedback_role_are_refused(world, submit, who):
    with pytest.raises(FeedbackDenied):
        submit(user=getattr(world, who))
    assert not Case.objects.exists()


def test_bad_forms_are_refused_with_the_field_named(world, submit):
    for kwargs, field in [
        ({"contact_requested": True, "contact_method": "phone"}, "contact_details"),
        ({"contact_requested": True, "contact_method": "pigeon", "contact_details": "x"}, "contact_method"),
        ({"on_site_now": True}, "site"),
        ({"type": "grievance"}, "type"),
        ({"description": "   "}, "description"),
        ({"categories": [999999]}, "categories"),
    ]:
        with pytest.raises(ValidationError) as refused:
            submit(**kwargs)
        assert field in refused.value.message_dict, kwargs
    assert not Case.objects.exists()


def test_on_site_feedback_alerts_the_sites_on_duty_contacts_and_is_urgent(world, submit):
    downtown = Location.objects.create(name="Downtown", slug="downtown", address="1 Main Street")
    downtown_rule = world.billing_team.rules.create(name="Downtown", position=1, site=downtown)
    TeamMember.objects.filter(team=world.billing_team, user=world.px2).update(on_duty=True)
    TeamMember.objects.filter(team=world.team, user=world.px_lead).update(on_duty=True)  # another team
    case = submit(site=downtown, on_site_now=True)
    case.refresh_from_db()
    assert case.routed_by == downtown_rule and case.on_site_now
    assert case.priority == Case.Priority.URGENT
    assert told("feedback.on_site") == [world.px2.pk]
    [alert] = audit(case).filter(action="feedback.location_alert")
    assert alert.details["told"] == 1


# --------------------------------------------------------------------------- status changes


PATHS = {
    S.NEW: [],
    S.ACKNOWLEDGED: [(S.ACKNOWLEDGED, "")],
    S.INVESTIGATING: [(S.INVESTIGATING, "")],
    S.AWAITING_PATIENT: [(S.AWAITING_PATIENT, "")],
    S.RESOLVED: [(S.RESOLVED, "explained")],
    S.CLOSED: [(S.RESOLVED, "explained"), (S.CLOSED, "")],
}


@pytest.mark.parametrize("current", list(PATHS))
def test_every_move_outside_the_transitions_is_refused_with_a_reason(world, submit, current):
    case = submit()
    for status, outcome in PATHS[current]:
        case = actions.change_status(actor=world.px, case=case, status=status, outcome=outcome)
    assert case.status == current
    refused_moves = [s for s in S.values if s not in TRANSITIONS[current]]
    assert refused_moves
    for wanted in refused_moves:
        with pytest.raises(ValidationError) as refused:
            actions.change_status(actor=world.px, case=case, status=wanted, outcome="resolved")
        assert codes(refused.value) == ["invalid_transition"]
        assert refused.value.messages[0].strip()
    case.refresh_from_db()
    assert case.status == current
    with pytest.raises(ValidationError) as unknown:
        actions.change_status(actor=world.px, case=case, status="deleted")
    assert "status" in unknown.value.message_dict


def test_a_case_walks_from_new_to_closed_and_is_reopened(world, submit, clock):
    case = submit()
    owner = case.owner
    case = actions.acknowledge_case(actor=owner, case=case)
    assert case.acknowledged_at == MONDAY
    for status in (S.INVESTIGATING, S.AWAITING_PATIENT, S.INVESTIGATING):
        case = actions.change_status(actor=owner, case=case, status=status)
    with pytest.raises(ValidationError) as refused:
        actions.resolve_case(actor=owner, case=case, outcome="")
    assert "outcome" in refused.value.message_dict
    case = actions.resolve_case(actor=owner, case=case, outcome="resolved", note="Apologised by phone.")
    assert (case.status, case.outcome, case.resolved_at) == (S.RESOLVED, "resolved", MONDAY)
    case = actions.change_status(actor=owner, case=case, status=S.CLOSED)
    assert case.closed_at == MONDAY
    case = actions.change_status(actor=owner, case=case, status=S.INVESTIGATING)
    assert (case.status, case.outcome, case.resolved_at, case.closed_at) == (S.INVESTIGATING, "", None, None)
    moves = [(e.details["from"], e.details["to"]) for e in case.events.filter(kind=CaseEvent.Kind.STATUS)]
    assert moves == [
        ("new", "acknowledged"),
        ("acknowledged", "investigating"),
        ("investigating", "awaiting_patient"),
        ("awaiting_patient", "investigating"),
        ("investigating", "resolved"),
        ("resolved", "closed"),
        ("closed", "investigating"),
    ]
    assert told("feedback.acknowledged") == told("feedback.resolved") == [world.patient.pk]
    assert case.survey_sent_at == MONDAY


def test_awaiting_the_patient_pauses_the_clocks_and_resuming_moves_them_on(world, submit, clock):
    case = submit()
    assert (case.acknowledge_due_at, case.resolve_due_at) == (ny(2026, 6, 2, 17), ny(2026, 6, 4, 17))
    clock(2026, 6, 1, 11)
    case = actions.change_status(actor=world.px, case=case, status=S.AWAITING_PATIENT)
    [pause] = CasePause.objects.filter(case=case)
    assert (pause.started_at, pause.ended_at, case.paused_since) == (ny(2026, 6, 1, 11), None, ny(2026, 6, 1, 11))
    assert sla.running(case) == [] and tasks.breach(case.pk, now=ny(2026, 7, 1, 9)) == []
    clock(2026, 6, 2, 10)  # 6 business hours on Monday and 1 on Tuesday were paused
    case = actions.change_status(actor=world.px, case=case, status=S.INVESTIGATING)
    pause.refresh_from_db()
    assert (pause.ended_at, case.paused_since) == (ny(2026, 6, 2, 10), None)
    assert case.resolve_due_at == ny(2026, 6, 5, 16)
    assert calendar.business_time_between(ny(2026, 6, 4, 17), case.resolve_due_at) == dt.timedelta(hours=7)


def test_reopening_restarts_the_resolve_clock_from_now_and_clears_its_breach(world, submit, clock):
    case = submit()
    assert tasks.breach(case.pk, now=ny(2026, 6, 5, 10)) == ["acknowledge", "resolve"]
    case = actions.resolve_case(actor=world.px, case=Case.objects.get(pk=case.pk), outcome="offline")
    clock(2026, 6, 8, 10)
    case = actions.change_status(actor=world.px, case=case, status=S.INVESTIGATING)
    assert case.resolve_due_at == ny(2026, 6, 11, 17)
    assert case.breaches == ["acknowledge"]
    assert tasks.breach(case.pk, now=ny(2026, 6, 11, 16)) == []
    assert tasks.breach(case.pk, now=ny(2026, 6, 11, 17)) == ["resolve"]


def test_a_pause_after_reopening_keeps_the_restarted_resolve_clock(world, submit, clock):
    case = actions.resolve_case(actor=world.px, case=submit(), outcome="offline")
    clock(2026, 6, 8, 10)
    case = actions.change_status(actor=world.px, case=case, status=S.INVESTIGATING)
    clock(2026, 6, 8, 11)
    case = actions.change_status(actor=world.px, case=case, status=S.AWAITING_PATIENT)
    clock(2026, 6, 8, 12)
    case = actions.change_status(actor=world.px, case=case, status=S.INVESTIGATING)
    assert case.resolve_due_at == ny(2026, 6, 12, 10)  # Thursday 17:00, one paused business hour later


# --------------------------------------------------------------------------- medical risk


@pytest.mark.parametrize(
    ("form", "source"),
    [
        (lambda world: {"categories": [world.safety.pk]}, "category"),
        (lambda world: {"description": "The nurse gave me the wrong medication last night."}, "screening"),
        (lambda world: {"description": "Me dieron el medicamento equivocado en la farmacia."}, "screening"),
    ],
)
def test_medical_risk_sends_the_case_to_risk_management(world, submit, form, source):
    case = submit(**form(world))
    assert (case.medical_risk, case.risk_source) == (True, source)
    assert (case.team, case.owner) == (world.risk_team, world.risk)
    assert case.priority == Case.Priority.HIGH
    assert told("feedback.risk") == [world.risk.pk]
    assert audit(case).filter(action="feedback.case_risk", details__source=source).count() == 1


def test_staff_flag_moves_the_case_and_other_px_staff_lose_it(world, submit):
    case = submit()
    with pytest.raises(access.NotFound):
        actions.flag_medical_risk(actor=world.clinician, case=case)
    case = actions.flag_medical_risk(actor=world.px, case=case)
    assert (case.medical_risk, case.risk_source, case.team, case.owner) == (True, "staff", world.risk_team, world.risk)
    assert told("feedback.risk") == [world.risk.pk] and told("feedback.assigned", recipient=world.risk)
    with pytest.raises(FeedbackDenied):
        actions.flag_medical_risk(actor=world.px, case=case)
    for work in (
        lambda who: actions.add_note(actor=who, case=case, note="Called the ward."),
        lambda who: actions.change_status(actor=who, case=case, status=S.INVESTIGATING),
        lambda who: actions.record_recovery(actor=who, case=case, kind="apology"),
        lambda who: actions.assign_case(actor=who, case=case, owner=world.risk),
    ):
        with pytest.raises(FeedbackDenied):
            work(world.px2)
        with pytest.raises(access.NotFound):
            work(world.moderator)
    actions.add_note(actor=world.risk, case=case, note="Reviewed the medication record.")
    case = actions.change_status(actor=world.risk, case=case, status=S.INVESTIGATING)
    assert case.status == S.INVESTIGATING


# --------------------------------------------------------------------------- assignment, notes, recovery


def test_assignment_stays_within_the_team_and_risk_cases_with_risk_managers(world, submit):
    case = submit()
    with pytest.raises(ValidationError) as refused:
        actions.assign_case(actor=world.px, case=case, owner=world.risk)
    assert "owner" in refused.value.message_dict
    case = actions.assign_case(actor=world.px, case=case, owner=world.px2)
    assert case.owner == world.px2 and told("feedback.assigned", recipient=world.px2)
    [event] = case.events.filter(kind=CaseEvent.Kind.ASSIGNED)
    assert (event.actor, event.details["owner"], event.details["reason"]) == (world.px, world.px2.pk, "manual")

    risky = submit(description="They gave me the wrong dose.")
    TeamMember.objects.create(team=world.risk_team, user=world.px_lead)
    with pytest.raises(ValidationError) as refused:
        actions.assign_case(actor=world.risk, case=risky, owner=world.px_lead)
    assert "owner" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        actions.assign_case(actor=world.risk, case=risky, team=world.team, owner=world.px)
    assert codes(refused.value) == ["risk_team_only"]
    assert Case.objects.get(pk=risky.pk).owner == world.risk


def test_bulk_assign_counts_the_cases_that_changed_hands(world, submit):
    cases = [submit(description=f"Complaint number {n}.") for n in range(3)]
    before = sum(c.owner_id == world.px.pk for c in cases)
    assert actions.bulk_assign(actor=world.px_lead, cases=cases, owner=world.px) == 3 - before
    assert set(Case.objects.values_list("owner_id", flat=True)) == {world.px.pk}
    assert actions.bulk_assign(actor=world.px_lead, cases=Case.objects.all(), owner=world.px) == 0


def test_notes_and_contact_attempts(world, submit):
    case = submit()
    event = actions.add_note(actor=world.px, case=case, note="Left a voicemail.", contact="phone:no_answer")
    assert (event.kind, event.details, event.note) == (
        CaseEvent.Kind.CONTACT,
        {"method": "phone", "result": "no_answer"},
        "Left a voicemail.",
    )
    assert actions.add_note(actor=world.px, case=case, note="Spoke to the ward manager.").kind == CaseEvent.Kind.NOTE
    for kwargs in ({"note": "x", "contact": "pigeon:reached"}, {"note": "x", "contact": "phone:maybe"}, {"note": " "}):
        with pytest.raises(ValidationError):
            actions.add_note(actor=world.px, case=case, **kwargs)
    with pytest.raises(access.NotFound):
        actions.add_note(actor=world.patient, case=case, note="Let me in.")


def test_recovery_actions_are_recorded(world, submit):
    case = submit()
    action = actions.record_recovery(actor=world.px, case=case, kind="bill_review", note="Parking fee refunded.")
    assert (action.kind, action.by) == ("bill_review", world.px)
    [event] = case.events.filter(kind=CaseEvent.Kind.RECOVERY)
    assert (event.details, event.note) == ({"recovery": "bill_review"}, "Parking fee refunded.")
    with pytest.raises(ValidationError):
        actions.record_recovery(actor=world.px, case=case, kind="cash")
    assert RecoveryAction.objects.count() == 1


def test_a_public_reply_is_logged_once_and_meets_the_first_reply_clock(world):
    case = actions.record_case(
        actor=world.px,
        channel="social",
        type="complaint",
        description=WORDS,
        platform="facebook",
        post_public=True,
        post_url="https://example.org/posts/1",
    )
    assert case.first_reply_due_at is not None and "first_reply" in sla.running(case)
    case = actions.log_public_reply(actor=world.px, case=case)
    assert case.first_replied_at is not None and "first_reply" not in sla.running(case)
    with pytest.raises(ValidationError) as refused:
        actions.log_public_reply(actor=world.px, case=case)
    assert codes(refused.value) == ["already_replied"]
    assert case.events.filter(kind=CaseEvent.Kind.PUBLIC_REPLY).count() == 1


# --------------------------------------------------------------------------- the survey


def test_the_survey_is_answered_once_by_the_submitter_after_resolution(world, submit):
    case = submit()
    with pytest.raises(ValidationError) as refused:
        actions.answer_survey(user=world.patient, case=case, score=5)
    assert codes(refused.value) == ["not_yet"]
    case = actions.resolve_case(actor=world.px, case=case, outcome="resolved")
    for stranger in (world.other_patient, world.px, world.caregiver, AnonymousUser()):
        with pytest.raises(access.NotFound):
            actions.answer_survey(user=stranger, case=case, score=5)
    for score in (0, 6, "five", None):
        with pytest.raises(ValidationError) as refused:
            actions.answer_survey(user=world.patient, case=case, score=score)
        assert "score" in refused.value.message_dict
    case = actions.answer_survey(user=world.patient, case=case, score="4")
    assert case.survey_score == 4
    with pytest.raises(ValidationError) as refused:
        actions.answer_survey(user=world.patient, case=case, score=1)
    assert codes(refused.value) == ["already_answered"]
    assert Case.objects.get(pk=case.pk).survey_score == 4


# --------------------------------------------------------------------------- audit and notices


def test_every_step_is_audited_without_the_words(world, submit):
    case = submit(description=WORDS, contact_requested=True, contact_method="email", contact_details="m@example.org")
    actions.add_note(actor=case.owner, case=case, note="Attendant suspended pending review.")
    actions.record_recovery(actor=case.owner, case=case, kind="apology", note="Wrote to the father.")
    actions.assign_case(actor=case.owner, case=case, owner=world.px if case.owner != world.px else world.px2)
    actions.resolve_case(actor=world.px_lead, case=case, outcome="resolved", note="Family satisfied.")
    rows = list(audit(case))
    assert {row.action for row in rows} >= {
        "feedback.case_receive",
        "feedback.case_route",
        "feedback.case_note",
        "feedback.case_recovery",
        "feedback.case_status",
    }
    assert all(row.details["reference"] == case.reference for row in rows)
    assert {row.patient_id for row in rows} == {world.patient.pk}
    dumped = json.dumps([row.details for row in rows])
    for words in ("parking", "Attendant", "father", "satisfied", "m@example.org"):
        assert words not in dumped


def test_the_submitter_the_owner_and_the_risk_team_are_told(world, submit):
    case = submit()
    assert told("feedback.received") == [world.patient.pk]
    assert told("feedback.assigned") == [case.owner_id]
    assert told("feedback.risk") == []
    params = Notification.objects.get(key="feedback.received").params
    assert WORDS not in json.dumps(params)


# --------------------------------------------------------------------------- content that needs attention


def test_a_low_review_becomes_one_case_per_cause(world, patient, clinician, django_capture_on_commit_callbacks):
    from portal_social.profiles import actions as reviews

    ratings = {key: 2 for key, _label in app_settings.REVIEW_QUESTIONS}
    with django_capture_on_commit_callbacks(execute=True):
        review = reviews.submit_review(author=patient, clinician=clinician, ratings=ratings, comment="")
    case = Case.objects.get(source_id=str(review.pk))
    assert (case.channel, case.type, case.source_type, case.source_cause) == (
        "review",
        "complaint",
        "portal_social.review",
        "low_rating",
    )
    assert case.patient == patient and list(case.clinicians.all()) == [clinician]
    assert case.first_reply_due_at is not None and case.team == world.team
    again = actions.case_from_content(
        model_label="portal_social.review", target=review, cause="low_rating", author_id=patient.pk
    )
    assert again.pk == case.pk
    reported = actions.case_from_content(
        model_label="portal_social.review", target=review, cause="reported", author_id=patient.pk
    )
    assert reported.pk != case.pk
    assert Case.objects.filter(source_id=str(review.pk)).count() == 2


def test_a_post_flagged_as_a_care_complaint_becomes_one_case(
    world, make_user, settings, django_capture_on_commit_callbacks
):
    from portal_social.community import actions as community
    from portal_social.community.models import Community, CommunityProfile, Membership

    settings.PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS = 0
    group = Community.objects.create(name="Heart health", slug="heart-health", visibility="members")
    author = make_user(roles.PATIENT, date_joined=timezone.now() - dt.timedelta(days=90))
    CommunityProfile.objects.create(user=author, handle="walker-x", trust_level=1)
    Membership.objects.create(community=group, user=author)
    post = community.start_thread(author=author, community=group, title="Discharge", body="Nobody explained my meds.")
    with django_capture_on_commit_callbacks(execute=True):
        community.flag_post(user=author, post=post, reason="care_complaint")
    again = actions.case_from_content(
        model_label="portal_social.post", target=post, cause="care_complaint", author_id=author.pk
    )
    [case] = Case.objects.filter(source_id=str(post.pk))
    assert again.pk == case.pk
    assert (case.channel, case.source_type, case.patient) == ("community", "portal_social.post", author)
    assert case.first_reply_due_at is None and case.description_source == ""


# --------------------------------------------------------------------------- missed deadlines


def test_a_missed_deadline_escalates_once(world, submit, clock):
    case = submit()
    assert tasks.breach(case.pk, now=ny(2026, 6, 2, 16, 59)) == []
    late = ny(2026, 6, 2, 17, 30)
    assert tasks.breach(case.pk, now=late) == ["acknowledge"]
    assert tasks.breach(case.pk, now=late) == []
    case.refresh_from_db()
    assert (case.breaches, case.priority, case.escalated_at) == (["acknowledge"], Case.Priority.HIGH, late)
    assert told("feedback.breach") == [world.px_lead.pk]
    [row] = audit(case).filter(action="feedback.case_breach")
    assert row.details["clock"] == "acknowledge" and row.details["late_by_minutes"] == 30
    assert case.events.filter(kind=CaseEvent.Kind.BREACH).count() == 1

    assert tasks.breach(case.pk, now=ny(2026, 6, 5, 9)) == ["resolve"]
    case.refresh_from_db()
    assert (case.breaches, case.priority, case.escalated_at) == (["acknowledge", "resolve"], Case.Priority.URGENT, late)


def test_without_an_active_lead_every_team_member_is_told(world, submit, clock):
    world.px_lead.is_active = False
    world.px_lead.save()
    case = submit()
    tasks.breach(case.pk, now=ny(2026, 6, 3, 9))
    assert sorted(told("feedback.breach")) == sorted([world.px.pk, world.px2.pk])


def test_a_met_or_paused_clock_never_breaches(world, submit, clock):
    met = actions.acknowledge_case(actor=world.px, case=submit())
    paused = actions.change_status(actor=world.px, case=submit(description="Lost my coat."), status=S.AWAITING_PATIENT)
    assert tasks.breach(met.pk, now=ny(2026, 6, 3, 9)) == []
    assert tasks.breach(paused.pk, now=ny(2026, 9, 1, 9)) == []
    assert tasks.sweep(now=ny(2026, 9, 1, 9)) == 1  # only the acknowledged case, for its resolve clock
    assert Case.objects.get(pk=paused.pk).breaches == []


def test_the_sweep_catches_up_on_late_cases_once(world, submit, clock):
    late = [submit(description=f"Late complaint {n}.") for n in range(3)]
    resolved = actions.resolve_case(actor=world.px, case=submit(description="Fixed at once."), outcome="resolved")
    clock(2026, 6, 2, 9)
    on_time = submit(description="Arrived on Tuesday.")
    assert tasks.sweep(now=ny(2026, 6, 2, 17, 30)) == 3
    assert tasks.sweep(now=ny(2026, 6, 2, 17, 30)) == 0
    assert {c.pk for c in Case.objects.exclude(escalated_at=None)} == {c.pk for c in late}
    assert Case.objects.get(pk=resolved.pk).breaches == Case.objects.get(pk=on_time.pk).breaches == []


def test_cases_already_escalated_do_not_crowd_newer_misses_out_of_the_sweep(world, submit, clock):
    older = submit()
    clock(2026, 6, 1, 11)
    newer = submit(description="The lift was broken.")
    assert tasks.breach(older.pk, now=ny(2026, 6, 2, 17, 30)) == ["acknowledge"]
    assert tasks.sweep(now=ny(2026, 6, 2, 17, 30), limit=1) == 1
    assert Case.objects.get(pk=newer.pk).breaches == ["acknowledge"]
