"""The portal websocket: signed-in users only, staff only with MFA, no PHI."""

import pytest
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from portal_social.core import roles
from portal_social.core.realtime import (
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


def _host_communicator(origin, cookie=None):
    """A socket to the example portal's ASGI application, as a browser on ``origin`` opens it."""
    from example_site.asgi import application

    headers = [(b"origin", origin.encode())]
    if cookie is not None:
        headers.append((b"cookie", cookie.encode()))
    return WebsocketCommunicator(application, PATH, headers=headers)


def _session_cookie(client, user) -> str:
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_host_socket_refuses_a_foreign_origin_even_with_a_valid_session(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    cookie = await database_sync_to_async(_session_cookie)(Client(), patient)
    foreign = _host_communicator("https://attacker.example", cookie)
    connected, _ = await foreign.connect()
    assert not connected
    await foreign.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_host_socket_turns_the_session_cookie_into_the_user(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    cookie = await database_sync_to_async(_session_cookie)(Client(), patient)

    signed_out = _host_communicator("http://localhost")
    await signed_out.connect()
    assert await signed_out.receive_output() == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}

    signed_in = _host_communicator("http://localhost", cookie)
    connected, _ = await signed_in.connect()
    assert connected
    await signed_in.send_json_to({"type": "ping"})
    assert await signed_in.receive_json_from() == {"type": "pong"}
    # The consumer subscribed the user named by the session, and only that user.
    layer = get_channel_layer()
    await layer.group_send(user_group_name(patient.pk), {"type": "portal.event", "event": {"kind": "message"}})
    assert await signed_in.receive_json_from() == {"kind": "message"}
    await signed_in.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_signing_out_closes_that_sessions_socket_but_not_another_sessions(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    leaving, staying = Client(), Client()
    leaving_cookie = await database_sync_to_async(_session_cookie)(leaving, patient)
    staying_cookie = await database_sync_to_async(_session_cookie)(staying, patient)
    closing = _host_communicator("http://localhost", leaving_cookie)
    other = _host_communicator("http://localhost", staying_cookie)
    assert (await closing.connect())[0]
    assert (await other.connect())[0]

    await database_sync_to_async(leaving.post)("/accounts/logout/")

    assert await closing.receive_output(timeout=2) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}
    await other.send_json_to({"type": "ping"})
    assert await other.receive_json_from() == {"type": "pong"}
    await other.disconnect()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_socket_whose_session_ended_is_closed_on_its_next_frame(make_user):
    """A session deleted behind the socket's back (expiry, an administrator
    ending it, a sign-out no channel layer carried) closes the socket."""
    from django.contrib.sessions.models import Session

    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    client = Client()
    cookie = await database_sync_to_async(_session_cookie)(client, patient)
    socket = _host_communicator("http://localhost", cookie)
    assert (await socket.connect())[0]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}

    await database_sync_to_async(Session.objects.filter(session_key=client.session.session_key).delete)()

    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
async def test_a_password_change_elsewhere_closes_the_socket(make_user):
    patient = await database_sync_to_async(make_user)(roles.PATIENT)
    cookie = await database_sync_to_async(_session_cookie)(Client(), patient)
    socket = _host_communicator("http://localhost", cookie)
    assert (await socket.connect())[0]

    def change_password():
        patient.set_password("a-new-password-for-this-test")
        patient.save()

    await database_sync_to_async(change_password)()
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_output(timeout=2) == {"type": "websocket.close", "code": CLOSE_UNAUTHENTICATED}


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_publish_after_commit_sends_only_when_the_transaction_commits(monkeypatch):
    from django.db import transaction

    from portal_social.core import realtime

    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: sent.append((group, message)))
    with pytest.raises(RuntimeError), transaction.atomic():
        realtime.publish_after_commit("g", {"kind": "rolled-back"})
        raise RuntimeError("the action failed")
    assert sent == []
    with transaction.atomic():
        realtime.publish_after_commit("g", {"kind": "committed"})
        assert sent == []
    assert sent == [("g", {"type": "portal.event", "event": {"kind": "committed"}})]


def test_a_channel_layer_outage_does_not_fail_the_publisher(monkeypatch, caplog):
    from portal_social.core import realtime

    class Down:
        async def group_send(self, group, message):
            raise ConnectionError("redis is down")

    monkeypatch.setattr(realtime, "get_channel_layer", lambda: Down())
    realtime.publish("g", {"type": "portal.event", "event": {}})
    assert "ConnectionError" in caplog.text
