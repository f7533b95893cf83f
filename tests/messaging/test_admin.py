"""Pools, members and care relationships in the Wagtail admin: portal administrators only, every change
audited with who made it, and a member taken off a pool loses its live streams at once."""

from __future__ import annotations

import pytest
from django.test import Client

from portal_social.core import realtime, roles
from portal_social.core.models import AuditEvent
from portal_social.messaging.models import PoolMember, PoolPatient
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

SNIPPETS = "/cms/snippets/portal_social/"


@pytest.fixture
def admin_client(make_user):
    administrator = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
    client = Client()
    sign_in(client, administrator)
    return client, administrator


def test_an_administrator_adds_a_member_and_a_care_relationship_and_it_is_audited(world, admin_client, make_user):
    client, administrator = admin_client
    nurse = make_user(roles.CARE_TEAM, mfa=True)
    response = client.post(f"{SNIPPETS}poolmember/add/", {"pool": str(world.pool.pk), "user": str(nurse.pk)})
    assert response.status_code == 302, response.content[:2000]
    assert PoolMember.objects.filter(pool=world.pool, user=nurse).exists()
    event = AuditEvent.objects.get(action="message.pool_member")
    assert event.actor_id == administrator.pk and event.details["change"] == "added"
    response = client.post(
        f"{SNIPPETS}poolpatient/add/",
        {"pool": str(world.pool.pk), "patient": str(world.other_patient.pk), "since": "2026-01-05"},
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="message.pool_patient")
    assert event.patient_id == world.other_patient.pk and event.actor_id == administrator.pk


def test_removing_a_member_is_audited_and_closes_what_their_sockets_follow(
    world, admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    client, _administrator = admin_client
    told = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: told.append((group, message["type"])))
    membership = PoolMember.objects.get(pool=world.pool, user=world.nurse)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{SNIPPETS}poolmember/delete/{membership.pk}/")
    assert response.status_code == 302
    assert not PoolMember.objects.filter(pk=membership.pk).exists()
    assert (realtime.user_group_name(world.nurse.pk), realtime.ACCESS_CHANGED) in told
    assert AuditEvent.objects.filter(action="message.pool_member", details__change="removed").count() == 1


@pytest.mark.parametrize("who", ["clinician", "nurse", "patient", "moderator"])
def test_only_portal_administrators_manage_pools(world, who):
    client = Client()
    sign_in(client, getattr(world, who))
    for model in ("carepool", "poolmember", "poolpatient"):
        response = client.get(f"{SNIPPETS}{model}/")
        assert response.status_code in (302, 403), (who, model, response.status_code)
    assert not PoolPatient.objects.filter(patient=world.moderator).exists()
