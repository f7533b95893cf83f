"""What every feedback test may ask for: PX and risk teams, categories, patients, caregivers and staff."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from portal_social.core import caregivers, roles
from portal_social.feedback.models import Category, RoutingRule, ServiceLine, Team, TeamMember


@dataclass
class World:
    patient: object
    other_patient: object
    caregiver: object
    px: object
    px2: object
    px_lead: object
    risk: object
    moderator: object
    clinician: object
    superuser: object
    team: Team
    risk_team: Team
    billing_team: Team
    billing: Category
    safety: Category
    communication: Category
    cardiology: ServiceLine


@pytest.fixture
def world(make_user):
    """``team`` (the fallback: px, px2; lead px_lead) and ``billing_team`` (px2, by rule for the billing
    category), ``risk_team`` (risk). ``caregiver`` holds a feedback link for ``patient``. Staff have MFA."""
    patient = make_user(roles.PATIENT, first_name="Maria", last_name="Lopez")
    other_patient = make_user(roles.PATIENT, first_name="James", last_name="Carter")
    caregiver = make_user(first_name="Ana", last_name="Lopez")
    caregivers.link_caregiver(actor=patient, caregiver=caregiver, patient=patient, scopes=["feedback"])
    px = make_user(roles.PATIENT_EXPERIENCE, mfa=True, first_name="Paula", last_name="Xu")
    px2 = make_user(roles.PATIENT_EXPERIENCE, mfa=True, first_name="Omar", last_name="Said")
    px_lead = make_user(roles.PATIENT_EXPERIENCE, mfa=True, first_name="Lena", last_name="Ford")
    risk = make_user(roles.RISK_MANAGER, mfa=True, first_name="Rita", last_name="Moss")
    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    clinician = make_user(roles.CLINICIAN, mfa=True)
    superuser = make_user(None, mfa=True, is_superuser=True, is_staff=True)
    team = Team.objects.create(name="Patient relations", slug="patient-relations", lead=px_lead, fallback=True)
    risk_team = Team.objects.create(name="Risk management", slug="risk", risk_management=True, lead=risk)
    billing_team = Team.objects.create(name="Billing office", slug="billing-office", lead=px_lead)
    TeamMember.objects.create(team=team, user=px)
    TeamMember.objects.create(team=team, user=px2)
    TeamMember.objects.create(team=team, user=px_lead, takes_cases=False)
    TeamMember.objects.create(team=billing_team, user=px2)
    TeamMember.objects.create(team=risk_team, user=risk)
    billing = Category.objects.get(slug="billing")
    RoutingRule.objects.create(name="Billing", position=10, category=billing, team=billing_team)
    return World(
        patient=patient,
        other_patient=other_patient,
        caregiver=caregiver,
        px=px,
        px2=px2,
        px_lead=px_lead,
        risk=risk,
        moderator=moderator,
        clinician=clinician,
        superuser=superuser,
        team=team,
        risk_team=risk_team,
        billing_team=billing_team,
        billing=billing,
        safety=Category.objects.get(slug="patient-safety"),
        communication=Category.objects.get(slug="communication"),
        cardiology=ServiceLine.objects.create(name="Cardiovascular", slug="cardiovascular"),
    )


@pytest.fixture
def submit(world):
    """``submit(user=world.patient, description=..., **kw)``: portal feedback through the action."""
    from portal_social.feedback import actions

    def make(user=None, *, description="The front desk was rude when I asked about my bill.", **kwargs):
        kwargs.setdefault("type", "complaint")
        return actions.submit_feedback(user=user or world.patient, description=description, **kwargs)

    return make
