"""The portal websocket: signed-in users only, staff only with MFA, no PHI."""

import pytest
from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import AnonymousUser

from portal_social.core import roles
from portal_social.messaging.consumers import (
    CLOSE_MFA_REQUIRED,
    CLOSE_UNAUTHENTICATED,
    PortalSocketConsumer,
    user_group_name,
)
from portal_social.routing import websocket_urlpatterns

PATH = "/ws/portal-social/"


def _communicator(user, session=None):
    app = URLRouter(websocket_urlpatterns)
    communicator = WebsocketCommunicator(app, PATH)
    communicator.scope["user"] = user
    communicator.scope["session"] = session if session is not None else {}
    return communicator


def _session_that_passed(user, *, second_factor: bool) -> dict:
    """allauth's records for a session that signed ``user`` in."""
    records = [{"method": "password", "at": 0}]
    if second_factor:
        records.append({"method": "mfa", "at": 0, "type": "totp", "id": 1})
    return {"account_authentication_methods": records, "account_authentication_methods_user": str(user.pk)}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_anonymous_socket_is_closed_unauthenticated():
    communicator = _communicator(AnonymousUser())
    await communicator.connect()
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_staff_without_mfa_socket_is_refused(make_user):
    clinician = await database_sync_to_async(make_user)(roles.CLINICIAN)
    communicator = _communicator(clinician)
    await communicator.connect()
    closed = await communicator.receive_output()
    assert closed == {"type": "websocket.close", "code": CLOSE_MFA_REQUIRED}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_enrolled_staff_socket_needs_a_session_that_passed_the_factor(make_user):
    """A password-only session (a side-door sign-in) does not get a live socket."""
    risk = await database_sync_to_async(make_user)(roles.RISK_MANAGER, mfa=True)
    refused = _communicator(risk, _session_that_passed(risk, second_factor=False))
    await refused.connect()
    assert await refused.receive_output() == {"type": "websocket.close", "code": CLOSE_MFA_REQUIRED}

    accepted = _communicator(risk, _session_that_passed(risk, second_factor=True))
    connected, _ = await accepted.connect()
    assert connected
    await accepted.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_patient_socket_answers_ping_and_receives_own_events_only(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    other = await database_sync_to_async(make_user)(roles.PATIENT)
    communicator = _communicator(patient)
    connected, _ = await communicator.connect()
    assert connected
    await communicator.send_json_to({"type": "ping"})
    assert await communicator.receive_json_from() == {"type": "pong"}

    layer = get_channel_layer()
    await layer.group_send(user_group_name(other.pk), {"type": "portal.event", "event": {"kind": "x"}})
    assert await communicator.receive_nothing(timeout=0.2)
    await layer.group_send(user_group_name(patient.pk), {"type": "portal.event", "event": {"kind": "message"}})
    assert await communicator.receive_json_from() == {"kind": "message"}
    await communicator.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_unknown_message_type_gets_an_error_not_a_crash(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    communicator = _communicator(patient)
    await communicator.connect()
    await communicator.send_json_to({"type": "drop_tables"})
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.send_to(text_data="[1, 2, 3]")
    assert (await communicator.receive_json_from())["type"] == "error"
    await communicator.disconnect()


def test_group_names_are_keyed_hashes_not_user_ids():
    name = user_group_name(123456789)
    assert "123456789" not in name
    assert name == user_group_name(123456789)
    assert name != user_group_name(123456788)
    assert len(name) < 100  # channels_redis limit


def test_consumer_is_routed_at_the_stable_path():
    assert websocket_urlpatterns[0].pattern.regex.match(PATH.lstrip("/"))
    assert websocket_urlpatterns[0].callback.consumer_class is PortalSocketConsumer


def test_auth_stack_is_importable_for_hosts():
    assert AuthMiddlewareStack
