"""Routing: which team and which person a new case goes to.

``world`` (tests/feedback/conftest.py): ``team`` is the fallback queue (px, px2;
the lead does not take cases), ``billing_team`` (px2) takes the billing category
by a rule at position 10, ``risk_team`` (risk) takes medical risk.
"""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from portal_social.feedback import routing
from portal_social.feedback.models import Case, RoutingRule, Team, TeamMember
from portal_social.profiles.models import Location

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def site(name):
    return Location.objects.create(name=name, slug=name.lower().replace(" ", "-"), address="1 Main Street")


def new_case(**fields) -> Case:
    """An unsaved case, as intake routes it before its first save."""
    fields.setdefault("channel", Case.Channel.PORTAL)
    fields.setdefault("type", Case.Type.COMPLAINT)
    return Case(**fields)


def owned(user, count=1, status=Case.Status.INVESTIGATING, **fields):
    """``count`` saved cases owned by ``user`` in ``status``."""
    for _ in range(count):
        fields.setdefault("channel", Case.Channel.PHONE)
        fields.setdefault("type", Case.Type.COMPLAINT)
        Case.objects.create(reference=f"T-{next(_numbers)}", owner=user, status=status, **fields)


@pytest.fixture
def front_desk(world):
    """A third team (px) with no rules yet."""
    team = Team.objects.create(name="Front desk", slug="front-desk")
    TeamMember.objects.create(team=team, user=world.px)
    return team


# --------------------------------------------------------------------------- rules


def test_the_first_matching_rule_by_position_wins(world, front_desk):
    downtown = site("Downtown")
    by_site = RoutingRule.objects.create(name="Downtown", position=20, site=downtown, team=front_desk)
    case = new_case(site=downtown)
    billing = {world.billing.pk}

    found = routing.route(case, billing)
    assert (found.team, found.rule, found.reason) == (
        world.billing_team,
        RoutingRule.objects.get(name="Billing"),
        "rule",
    )

    by_site.position = 5
    by_site.save()
    found = routing.route(case, billing)
    assert (found.team, found.rule, found.reason) == (front_desk, by_site, "rule")
    assert found.owner_id == world.px.pk


@pytest.mark.parametrize("condition", ["site", "service_line", "category"])
def test_each_condition_of_a_rule_must_match(world, front_desk, condition):
    here, elsewhere = site("Downtown"), site("Uptown")
    values = {"site": here, "service_line": world.cardiology, "category": world.communication}
    RoutingRule.objects.create(name="Only this", position=1, team=front_desk, **{condition: values[condition]})
    matching = new_case(site=here, service_line=world.cardiology)
    assert routing.route(matching, {world.communication.pk}).team == front_desk

    other = {
        "site": (new_case(site=elsewhere, service_line=world.cardiology), {world.communication.pk}),
        "service_line": (new_case(site=here), {world.communication.pk}),
        "category": (new_case(site=here, service_line=world.cardiology), {world.safety.pk}),
    }[condition]
    found = routing.route(*other)
    assert (found.team, found.reason) == (world.team, "fallback")


def test_every_condition_of_one_rule_must_match_together(world, front_desk):
    here = site("Downtown")
    RoutingRule.objects.create(
        name="Cardiology downtown", position=1, site=here, service_line=world.cardiology, team=front_desk
    )
    assert routing.route(new_case(site=here, service_line=world.cardiology), set()).team == front_desk
    assert routing.route(new_case(site=here), set()).team == world.team
    assert routing.route(new_case(service_line=world.cardiology), set()).team == world.team


@pytest.mark.parametrize(
    ("severity", "matches"), [("low", False), ("medium", False), ("high", True), ("critical", True)]
)
def test_a_minimum_severity_takes_that_severity_and_above(world, front_desk, severity, matches):
    RoutingRule.objects.create(name="Serious", position=1, min_severity="high", team=front_desk)
    found = routing.route(new_case(severity=severity), set())
    assert found.team == (front_desk if matches else world.team)


def test_inactive_rules_and_rules_of_inactive_teams_are_skipped(world, front_desk):
    rule = RoutingRule.objects.create(name="Everything", position=1, team=front_desk, active=False)
    assert routing.route(new_case(), set()).team == world.team
    rule.active = True
    rule.save()
    assert routing.route(new_case(), set()).team == front_desk
    front_desk.active = False
    front_desk.save()
    assert routing.route(new_case(), set()).team == world.team
    world.billing_team.active = False
    world.billing_team.save()
    assert routing.route(new_case(), {world.billing.pk}).team == world.team


def test_nothing_matches_the_fallback_team_takes_it(world):
    found = routing.route(new_case(), set())
    assert (found.team, found.rule, found.reason) == (world.team, None, "fallback")
    assert found.owner_id in (world.px.pk, world.px2.pk)


def test_without_a_fallback_team_the_case_is_unowned_and_in_no_team(world):
    world.team.fallback = False
    world.team.save()
    assert routing.route(new_case(), set()) == routing.Route(None, None, None, "none")
    world.team.fallback = True
    world.team.active = False
    world.team.save()
    assert routing.route(new_case(), set()) == routing.Route(None, None, None, "none")
    assert routing.route(new_case(), {world.billing.pk}).team == world.billing_team  # rules still route


# --------------------------------------------------------------------------- medical risk


def test_medical_risk_goes_to_the_risk_team_before_any_rule(world, front_desk):
    RoutingRule.objects.create(name="Everything", position=1, team=front_desk, owner=world.px)
    found = routing.route(new_case(medical_risk=True), {world.billing.pk})
    assert (found.team, found.owner_id, found.rule, found.reason) == (world.risk_team, world.risk.pk, None, "risk")


def test_without_an_active_risk_team_medical_risk_routes_by_the_rules(world):
    world.risk_team.active = False
    world.risk_team.save()
    assert routing.risk_team() is None
    found = routing.route(new_case(medical_risk=True), {world.billing.pk})
    assert (found.team, found.reason) == (world.billing_team, "rule")


# --------------------------------------------------------------------------- the rule's owner


def test_a_rules_owner_gets_the_case_while_an_active_member(world, front_desk):
    TeamMember.objects.create(team=front_desk, user=world.px2)
    owned(world.px2, 3)  # busier than px: fair sharing would choose px
    rule = RoutingRule.objects.create(name="Everything", position=1, team=front_desk, owner=world.px2)
    found = routing.route(new_case(), set())
    assert (found.team, found.owner_id, found.rule) == (front_desk, world.px2.pk, rule)

    world.px2.is_active = False
    world.px2.save()
    assert routing.route(new_case(), set()).owner_id == world.px.pk
    world.px2.is_active = True
    world.px2.save()
    TeamMember.objects.filter(team=front_desk, user=world.px2).delete()
    assert routing.route(new_case(), set()).owner_id == world.px.pk


def test_a_rules_owner_outside_the_team_is_not_used(world, front_desk):
    RoutingRule.objects.create(name="Everything", position=1, team=front_desk, owner=world.risk)
    found = routing.route(new_case(), set())
    assert (found.team, found.owner_id) == (front_desk, world.px.pk)


# --------------------------------------------------------------------------- fair sharing


def test_the_member_with_the_fewest_open_cases_gets_the_next(world):
    owned(world.px, 2)
    owned(world.px2, 1, status=Case.Status.AWAITING_PATIENT)
    assert routing.pick_owner(world.team, new_case()) == world.px2.pk
    owned(world.px2, 2, status=Case.Status.NEW)
    assert routing.pick_owner(world.team, new_case()) == world.px.pk


def test_resolved_and_closed_cases_do_not_count(world):
    owned(world.px, 3, status=Case.Status.RESOLVED)
    owned(world.px, 3, status=Case.Status.CLOSED)
    owned(world.px2, 1, status=Case.Status.ACKNOWLEDGED)
    assert routing.pick_owner(world.team, new_case()) == world.px.pk


def test_a_tie_goes_to_the_earliest_account(world):
    owned(world.px, 1)
    owned(world.px2, 1)
    first, second = sorted([world.px.pk, world.px2.pk])
    for _ in range(3):
        assert routing.pick_owner(world.team, new_case()) == first
    assert first != second


def test_members_who_do_not_take_cases_are_skipped(world):
    owned(world.px, 5)
    owned(world.px2, 5)
    # The lead has no cases at all, but does not take new ones.
    assert routing.pick_owner(world.team, new_case()) in (world.px.pk, world.px2.pk)
    TeamMember.objects.filter(team=world.team, user=world.px).update(takes_cases=False)
    assert routing.pick_owner(world.team, new_case()) == world.px2.pk


def test_inactive_accounts_are_skipped(world):
    owned(world.px, 5)
    world.px2.is_active = False
    world.px2.save()
    assert routing.pick_owner(world.team, new_case()) == world.px.pk


def test_a_team_nobody_takes_cases_in_leaves_the_case_in_its_queue(world):
    TeamMember.objects.filter(team=world.team).update(takes_cases=False)
    found = routing.route(new_case(), set())
    assert (found.team, found.owner_id) == (world.team, None)


# --------------------------------------------------------------------------- sticky owner


def test_a_repeat_patient_keeps_the_person_who_had_their_last_case(world):
    owned(world.px, 1, patient=world.other_patient)
    owned(world.px2, 4)
    owned(world.px2, 1, patient=world.patient, status=Case.Status.CLOSED)
    assert routing.pick_owner(world.team, new_case(patient=world.patient)) == world.px2.pk
    assert routing.pick_owner(world.team, new_case(patient=world.other_patient)) == world.px.pk
    assert routing.pick_owner(world.team, new_case()) == world.px.pk  # anonymous: fair


def test_the_most_recent_case_decides_who_is_sticky(world):
    earlier = timezone.now() - datetime.timedelta(days=30)
    owned(world.px, 1, patient=world.patient, received_at=earlier)
    owned(world.px2, 1, patient=world.patient)
    owned(world.px2, 3)
    assert routing.pick_owner(world.team, new_case(patient=world.patient)) == world.px2.pk


@pytest.mark.parametrize("gone", ["left_the_team", "stopped_taking_cases", "account_closed"])
def test_not_sticky_when_the_last_owner_is_no_longer_a_member_taking_cases(world, gone):
    owned(world.px2, 1, patient=world.patient, status=Case.Status.RESOLVED)
    owned(world.px, 2)
    membership = TeamMember.objects.filter(team=world.team, user=world.px2)
    if gone == "left_the_team":
        membership.delete()
    elif gone == "stopped_taking_cases":
        membership.update(takes_cases=False)
    else:
        world.px2.is_active = False
        world.px2.save()
    assert routing.pick_owner(world.team, new_case(patient=world.patient)) == world.px.pk


def test_sticky_applies_only_within_the_team_the_case_goes_to(world):
    owned(world.risk, 1, patient=world.patient, medical_risk=True)
    owned(world.px, 1)
    assert routing.route(new_case(patient=world.patient), set()).owner_id == world.px2.pk


def test_routing_through_intake_records_the_rule_and_the_owner(world, submit):
    case = submit(description="I was charged twice for one visit.", categories=[world.billing.pk])
    assert (case.team, case.owner, case.routed_by.name) == (world.billing_team, world.px2, "Billing")
    case = submit(description="Nobody called me back.")
    assert case.team == world.team and case.routed_by is None
