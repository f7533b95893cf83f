"""Demo data for feedback and service recovery: teams, routing, and cases in every state and from every channel.

Cases are made through ``portal_social.feedback.actions``, so they are numbered, encrypted, routed, audited
and on SLA clocks like any other. They are made once: a second run of ``seed_demo`` finds them and stops.
"""

from __future__ import annotations

import datetime
import uuid

from django.utils import timezone

DEMO_TEAMS = {
    # slug: (name, lead, members, risk management, fallback)
    "patient-relations": ("Patient relations", "px1", ("px1",), False, True),
    "risk-management": ("Risk management", "risk1", ("risk1",), True, False),
}


def _token(key: str) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, "portal-social-demo:feedback:" + key)


def seed_feedback(users) -> None:
    from portal_social.feedback import actions, tasks
    from portal_social.feedback.models import Case, Category, RoutingRule, ServiceLine, Team, TeamMember
    from portal_social.profiles.models import ClinicianPage, Location

    teams = {}
    for slug, (name, lead, members, risk, fallback) in DEMO_TEAMS.items():
        team, _created = Team.objects.get_or_create(
            slug=slug, defaults={"name": name, "lead": users[lead], "risk_management": risk, "fallback": fallback}
        )
        teams[slug] = team
        for username in members:
            TeamMember.objects.get_or_create(team=team, user=users[username], defaults={"on_duty": True})
    cardio, _ = ServiceLine.objects.get_or_create(slug="cardiovascular", defaults={"name": "Cardiovascular"})
    ServiceLine.objects.get_or_create(slug="primary-care", defaults={"name": "Primary care"})
    billing = Category.objects.get(slug="billing")
    RoutingRule.objects.get_or_create(
        name="Billing questions to patient relations",
        defaults={"position": 10, "category": billing, "team": teams["patient-relations"]},
    )
    if Case.objects.exclude(channel__in=[Case.Channel.REVIEW, Case.Channel.COMMUNITY]).exists():
        return
    px, patient1, patient2, caregiver = users["px1"], users["patient1"], users["patient2"], users["caregiver1"]
    site = Location.objects.order_by("name").first()
    cat = {c.slug: c.pk for c in Category.objects.all()}
    now = timezone.now()

    # Portal feedback from patients, walked through the states.
    new = actions.submit_feedback(
        user=patient1,
        type="complaint",
        summary="Waited two hours in clinic",
        description="My appointment was at 9:00 and I was seen at 11:10. Nobody told us why.",
        site=site,
        categories=[cat["wait-time"]],
        contact_requested=True,
        contact_method="portal",
        submission=_token("new"),
    )
    del new
    acknowledged = actions.submit_feedback(
        user=caregiver,
        patient=patient1,
        type="complaint",
        summary="Discharge instructions were confusing",
        description="My mother's discharge papers listed two different doses. We called twice for clarification.",
        categories=[cat["communication"]],
        submission=_token("acknowledged"),
    )
    actions.acknowledge_case(actor=px, case=acknowledged)
    investigating = actions.submit_feedback(
        user=patient2,
        type="complaint",
        summary="Charged twice for one visit",
        description="I received two bills for the same visit on my statement.",
        categories=[cat["billing"]],
        contact_requested=True,
        contact_method="phone",
        contact_details="Please call me on my mobile after 5pm.",
        submission=_token("investigating"),
    )
    actions.change_status(actor=px, case=investigating, status="investigating", note="Asked billing to review.")
    waiting = actions.submit_feedback(
        user=patient2,
        type="question",
        summary="Parking validation",
        description="Can the parking garage validate tickets for long infusion visits?",
        submission=_token("waiting"),
    )
    actions.change_status(actor=px, case=waiting, status="awaiting_patient", note="Asked which visit dates.")
    resolved = actions.submit_feedback(
        user=patient1,
        type="complaint",
        summary="Rude phone call",
        description="The person who answered the scheduling line was short with me and hung up.",
        categories=[cat["staff-conduct"]],
        submission=_token("resolved"),
    )
    actions.change_status(actor=px, case=resolved, status="investigating")
    actions.add_note(actor=px, case=resolved, note="Spoke with the scheduling supervisor.", contact="phone:reached")
    actions.record_recovery(actor=px, case=resolved, kind="apology", note="Apologised on the phone.")
    actions.resolve_case(actor=px, case=resolved, outcome="resolved")
    closed = actions.submit_feedback(
        user=patient1,
        type="compliment",
        summary="Wonderful nurses on 4 West",
        description="The night nurses on 4 West were kind and patient with my father.",
        submission=_token("closed"),
    )
    actions.resolve_case(actor=px, case=closed, outcome="resolved")
    actions.change_status(actor=px, case=closed, status="closed")
    actions.submit_feedback(
        user=None,
        type="suggestion",
        description="Please add more benches near the main entrance.",
        anonymous=True,
    )

    # Staff entry: a private social-media post, a grievance by letter, a phone call.
    actions.record_case(
        actor=px,
        channel="social",
        type="complaint",
        summary="Private message about the emergency department wait",
        description="Direct message: 'Sat in your ER for six hours with my son and nobody checked on us.'",
        platform="facebook",
        post_public=False,
        handle="@demo.parent",
        how_learned="Sent to the hospital's Facebook page inbox.",
        categories=[cat["wait-time"]],
        service_line=cardio,
    )
    grievance = actions.record_case(
        actor=px,
        channel="letter",
        type="grievance",
        severity="high",
        patient=patient2,
        summary="Formal grievance about cancelled procedure",
        description="Letter asks for a written response about why the procedure was cancelled on the day.",
        categories=[cat["access"]],
        clinicians=list(ClinicianPage.objects.order_by("pk")[:1]),
    )
    actions.acknowledge_case(actor=px, case=grievance)
    actions.change_status(actor=px, case=grievance, status="investigating")
    actions.write_grievance_response(
        actor=px,
        case=grievance,
        contact_person="Jordan Avery, Patient Relations, 413-555-0100",
        steps="We reviewed the surgical schedule for that day and spoke with the surgical team and the "
        "scheduling office.",
        results="The procedure was cancelled because an emergency case needed the operating room. We have "
        "changed how patients are told of same-day changes, and offered the earliest new date.",
        completed_on=timezone.localdate(),
    )
    actions.mark_letter_sent(actor=px, case=grievance)
    actions.resolve_case(actor=px, case=grievance, outcome="resolved")
    breached = actions.record_case(
        actor=px,
        channel="phone",
        type="complaint",
        summary="No call back about test results",
        description="Caller says nobody called back about results for a week.",
        categories=[cat["communication"]],
        received_at=now - datetime.timedelta(days=8),
    )
    tasks.breach(breached.pk, now=now)

    # Medical risk: px1 sees only that it exists; risk1 reads and works it.
    actions.submit_feedback(
        user=patient2,
        type="complaint",
        summary="Given the wrong medication",
        description="The nurse gave me the wrong medication on Tuesday night and I was sick all night.",
        submission=_token("risk"),
    )


__all__ = ["seed_feedback"]
