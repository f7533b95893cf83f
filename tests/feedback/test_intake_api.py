"""The intake API for social-media management tools: keys, validation, idempotency, routing, limits, logs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from portal_social.feedback import actions
from portal_social.feedback.actions import integrations
from portal_social.feedback.models import Case, CaseEvent, IntakeKey
from portal_social.profiles.models import Location
from tests.concurrency.conftest import file_database  # noqa: F401  (the fixture)

pytestmark = pytest.mark.django_db

WORDS = "Waited four hours in the emergency room and nobody told us anything"
URL = "/px/api/intake/"


@pytest.fixture
def key(world):
    _row, raw = integrations.create_intake_key(name="Sprinklr", source="sprinklr")
    return raw


def item(**overrides):
    body = {
        "external_id": "sprinklr-msg-1001",
        "type": "complaint",
        "platform": "facebook",
        "post_url": "https://facebook.example/posts/1001",
        "handle": "@maria.l",
        "public": True,
        "text": WORDS,
        "received_at": "2026-03-01T14:30:00Z",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


def send(key, body=None, *, content_type="application/json", raw=None, **headers):
    client = Client(raise_request_exception=False)
    if key is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {key}")
    data = raw if raw is not None else json.dumps(item() if body is None else body)
    return client.generic("POST", URL, data, content_type=content_type, **headers)


def test_the_route_is_the_px_intake_api():
    assert reverse("portal_social_px:intake_api") == URL


# --------------------------------------------------------------------------- who may send


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer pski_not-a-real-key", "Basic dXNlcjpwYXNz", "Bearer " + "x" * 5000],
)
def test_without_a_valid_key_the_answer_is_401_and_nothing_is_recorded(world, key, header):
    headers = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = send(None, **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Content-Type"] == "application/json"
    assert "error" in response.json()
    assert not Case.objects.exists()


def test_a_revoked_key_is_refused(world, key):
    assert send(key).status_code == 201
    assert integrations.revoke_intake_keys(source="sprinklr") == 1
    response = send(key, item(external_id="sprinklr-msg-1002"))
    assert response.status_code == 401
    assert Case.objects.count() == 1


def test_an_inactive_key_is_refused_by_the_action_too(world, key):
    row = IntakeKey.objects.get(source="sprinklr")
    row.active = False
    with pytest.raises(actions.FeedbackDenied):
        actions.receive_item(key=row, payload=item())


def test_the_scheme_is_read_without_regard_to_case(world, key):
    assert send(None, HTTP_AUTHORIZATION=f"bearer {key}").status_code == 201


def test_only_post_is_allowed(world, key):
    client = Client()
    response = client.get(URL, HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 405
    assert response["Allow"] == "POST"


# --------------------------------------------------------------------------- what may be sent


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1", ""]
)
def test_only_json_is_accepted(world, key, content_type):
    response = send(key, content_type=content_type)
    assert response.status_code == 415
    assert not Case.objects.exists()


def test_json_with_a_utf8_charset_is_accepted(world, key):
    assert send(key, content_type="application/json; charset=UTF-8").status_code == 201


def test_a_body_over_64_kb_is_refused(world, key):
    response = send(key, item(text="a" * (64 * 1024)))
    assert response.status_code == 413
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [b"{not json", b"\xff\xfe{}", b"[1, 2]", b'"text"', b"null", b'{"public": NaN}', b"[" * 30_000 + b"]" * 30_000],
    ids=["broken", "not-utf8", "array", "string", "null", "nan", "deep"],
)
def test_bad_json_is_a_400_with_a_clear_message(world, key, raw):
    response = send(key, raw=raw)
    assert response.status_code == 400
    assert response.json()["error"]
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("external_id", ...),
        ("external_id", ""),
        ("external_id", "x" * 121),
        ("external_id", "line\nbreak"),
        ("external_id", 1001),
        ("type", "rant"),
        ("platform", "myspace"),
        ("post_url", "javascript:alert(1)"),
        ("handle", "h" * 121),
        ("public", ...),
        ("public", "yes"),
        ("public", 1),
        ("text", ...),
        ("text", "   "),
        ("text", "w" * 5001),
        ("text", ["a list"]),
        ("received_at", "yesterday"),
        ("received_at", "2026-03-01T14:30:00"),
        ("received_at", "2999-01-01T00:00:00Z"),
        ("received_at", "0001-01-01T00:00:00+14:00"),
        ("severity", "apocalyptic"),
        ("categories", ["billing", "no-such-category"]),
        ("categories", "billing"),
        ("categories", [1, 2]),
        ("site", "nowhere"),
    ],
)
def test_each_field_is_checked_and_named(world, key, field, value):
    response = send(key, item(**{field: value}))
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field
    assert body["error"].startswith(f"{field}: ")
    assert field in body["fields"]
    assert not Case.objects.exists()


def test_unknown_fields_are_ignored(world, key):
    assert send(key, item(sentiment=-0.8, author={"followers": 12})).status_code == 201


JSON_JUNK = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**30), 10**30) | st.floats(allow_nan=False) | st.text(max_size=60),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
FIELDS = ("external_id", "type", "platform", "post_url", "handle", "public", "text", "received_at", "severity")


def test_junk_with_a_valid_key_never_causes_a_server_error(world, key, settings):
    """What the security fuzzing cannot send: junk from a caller holding a key."""
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"intake_api": "100000/h,100000/h/ip"}
    settings.DEBUG_PROPAGATE_EXCEPTIONS = False
    fields = FIELDS + ("categories", "site")

    @hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(
        base=st.booleans(),
        junk=st.dictionaries(st.sampled_from(fields), JSON_JUNK | st.sampled_from(["", "\x00", "\ud800"]), max_size=5),
    )
    def fuzz(base, junk):
        body = {**(item(external_id=f"f-{len(junk)}-{base}") if base else {}), **junk}
        response = send(key, raw=json.dumps(body))
        assert response.status_code in (200, 201, 400), (body, response.content)
        assert response["Content-Type"] == "application/json"

    fuzz()


# --------------------------------------------------------------------------- what is recorded


def test_a_new_item_is_a_case_numbered_routed_and_audited(world, key, django_capture_on_commit_callbacks):
    site = Location.objects.create(name="Main campus", slug="main-campus", address="1 Main St")
    with django_capture_on_commit_callbacks(execute=True):
        response = send(
            key, item(categories=["billing"], site="main-campus", severity="high", received_at="2026-03-01T14:30:00Z")
        )
    assert response.status_code == 201
    body = response.json()
    case = Case.objects.get()
    assert body == {"reference": case.reference, "id": str(case.pk), "created": True}
    assert case.reference.startswith("PX-")
    assert (case.channel, case.type, case.severity, case.platform) == ("api", "complaint", "high", "facebook")
    assert (case.external_source, case.external_id) == ("sprinklr", "sprinklr-msg-1001")
    assert case.post_public is True and case.handle_discreetly is False
    assert case.description_source == WORDS and "four hours" in case.description_html
    assert case.handle == "@maria.l" and case.post_url == "https://facebook.example/posts/1001"
    assert case.received_at == dt.datetime(2026, 3, 1, 14, 30, tzinfo=dt.UTC)
    assert case.site == site and list(case.categories.all()) == [world.billing]
    # Routed by the billing rule; the owner is told, with nothing but a link.
    assert case.team == world.billing_team and case.owner == world.px2
    assert list(Notification.objects.filter(key="feedback.assigned").values_list("recipient", flat=True)) == [
        world.px2.pk
    ]
    assert case.acknowledge_due_at is not None and case.resolve_due_at is not None
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds[:2] == [CaseEvent.Kind.RECEIVED, CaseEvent.Kind.ROUTED]
    received = AuditEvent.objects.get(target_id=str(case.pk), action="feedback.case_receive")
    assert received.details["channel"] == "api"
    assert WORDS not in json.dumps(received.details)
    assert IntakeKey.objects.get(source="sprinklr").last_used_at is not None


def test_the_answer_holds_the_reference_and_id_and_nothing_anyone_wrote(world, key):
    response = send(key)
    text = response.content.decode()
    assert set(response.json()) == {"reference", "id", "created"}
    for words in ("four hours", "emergency", "maria", "facebook.example", "sprinklr-msg-1001"):
        assert words not in text


def test_received_at_defaults_to_now(world, key):
    before = timezone.now()
    assert send(key, item(received_at=...)).status_code == 201
    assert Case.objects.get().received_at >= before


def test_a_private_post_is_handled_discreetly(world, key):
    assert send(key, item(public=False, platform="instagram")).status_code == 201
    case = Case.objects.get()
    assert case.post_public is False and case.handle_discreetly is True


def test_risk_words_send_the_case_to_risk_management(world, key):
    response = send(key, item(text="They gave my mother the wrong medication and she fell in the hallway"))
    assert response.status_code == 201
    case = Case.objects.get()
    assert case.medical_risk and case.risk_source == "screening"
    assert case.team == world.risk_team and case.owner == world.risk
    assert Notification.objects.filter(key="feedback.risk", recipient=world.risk).exists()


# --------------------------------------------------------------------------- once per item


def test_the_same_item_twice_is_one_case_and_the_second_answer_is_200(world, key):
    first = send(key).json()
    again = send(key, item(text="A different text for the same post"))
    assert again.status_code == 200
    assert again.json() == {"reference": first["reference"], "id": first["id"], "created": False}
    assert Case.objects.count() == 1
    assert Case.objects.get().description_source == WORDS
    assert AuditEvent.objects.filter(action="feedback.case_receive").count() == 1


def test_another_tool_may_use_the_same_external_id(world, key):
    _row, other = integrations.create_intake_key(name="Hootsuite", source="hootsuite")
    assert send(key).status_code == 201
    assert send(other).status_code == 201
    assert sorted(Case.objects.values_list("external_source", flat=True)) == ["hootsuite", "sprinklr"]


def test_a_twin_that_wins_the_race_is_returned_not_an_error(world, key, monkeypatch):
    """The second send passes the "seen before?" check before the first commits; the constraint decides."""
    twin = send(key).json()
    real_find = integrations._find
    calls = []

    def late_find(source, external_id):
        calls.append(external_id)
        return None if len(calls) == 1 else real_find(source, external_id)

    monkeypatch.setattr(integrations, "_find", late_find)
    response = send(key)
    assert len(calls) == 2  # missed once, then found after the insert was refused
    assert response.status_code == 200
    assert response.json() == {**twin, "created": False}
    assert Case.objects.count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_concurrent_sends_of_one_item_make_one_case(world, key, file_database):  # noqa: F811
    file_database.switch()
    barrier = threading.Barrier(2)
    answers, errors = [], []
    real_find = integrations._find

    waited = set()

    def slow_find(source, external_id):
        found = real_find(source, external_id)
        me = threading.current_thread().name
        if me.startswith("sender") and me not in waited:
            waited.add(me)
            barrier.wait(timeout=10)
        return found

    # Both senders look before either writes, so only the unique constraint can keep the item once.
    integrations._find = slow_find

    def sender():
        try:
            answers.append(send(key))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=sender, name=f"sender-{n}") for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        integrations._find = real_find
    assert not errors
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200, 201], [a.content for a in answers]
    assert len({a.json()["reference"] for a in answers}) == 1
    assert file_database(lambda: Case.objects.filter(external_id="sprinklr-msg-1001").count()) == 1
    if connection.vendor == "sqlite":
        assert file_database(lambda: connection.is_in_memory_db()) is False


# --------------------------------------------------------------------------- limits and logs


def test_past_the_keys_rate_limit_the_answer_is_429_with_retry_after(world, key, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"intake_api": "2/h,1000/h/ip"}
    for n in range(2):
        assert send(key, item(external_id=f"m-{n}")).status_code == 201
    response = send(key, item(external_id="m-3"))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert response.json()["error"]
    assert Case.objects.count() == 2
    # Counted per key: another tool on the same address still sends.
    _row, other = integrations.create_intake_key(name="Hootsuite", source="hootsuite")
    assert send(other, item(external_id="m-3")).status_code == 201


def test_neither_the_key_nor_the_body_reaches_the_logs(world, key, caplog, settings):
    settings.PORTAL_SOCIAL_RATE_LIMITS = {"intake_api": "3/h,1000/h/ip"}
    caplog.set_level(logging.DEBUG)
    send(key)  # created
    send(key, item(text=""))  # 400
    send(key[:-1] + "x")  # 401
    send(key, raw=b"{broken " + WORDS.encode())  # 400
    send(key, item(external_id="again"))  # 429
    assert caplog.records  # the refusals were logged (Django's request log, ours)
    logged = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert key not in logged and key[len(integrations.KEY_PREFIX) :] not in logged
    assert hashlib.sha256(key.encode()).hexdigest() not in logged
    for words in ("four hours", "emergency", "maria", "sprinklr-msg-1001"):
        assert words not in logged


# --------------------------------------------------------------------------- issuing keys


def test_the_command_prints_a_key_once_and_keeps_only_its_hash(world):
    out = StringIO()
    call_command("portal_social_intake_key", "create", "--name", "Sprinklr", "--source", "sprinklr", stdout=out)
    printed = out.getvalue().strip().splitlines()[-1]
    assert printed.startswith("pski_") and len(printed) >= 40
    row = IntakeKey.objects.get(source="sprinklr")
    assert row.key_hash == hashlib.sha256(printed.encode()).hexdigest()
    assert row.prefix == printed[:12]
    assert printed not in json.dumps(list(IntakeKey.objects.values()), default=str)
    assert send(printed).status_code == 201

    listed = StringIO()
    call_command("portal_social_intake_key", "list", stdout=listed)
    assert "Sprinklr\tsprinklr\t" in listed.getvalue() and printed not in listed.getvalue()
    assert "active" in listed.getvalue()

    with pytest.raises(CommandError, match="active key"):
        call_command("portal_social_intake_key", "create", "--name", "Sprinklr", "--source", "sprinklr")

    call_command("portal_social_intake_key", "revoke", "--source", "sprinklr", stdout=StringIO())
    assert send(printed, item(external_id="later")).status_code == 401
    with pytest.raises(CommandError, match="No active key"):
        call_command("portal_social_intake_key", "revoke", "--source", "sprinklr")

    # A new key for the source replaces the revoked one; the old key stays refused.
    again = StringIO()
    call_command("portal_social_intake_key", "create", "--name", "Sprinklr", "--source", "sprinklr", stdout=again)
    fresh = again.getvalue().strip().splitlines()[-1]
    assert fresh != printed
    assert send(printed, item(external_id="later")).status_code == 401
    assert send(fresh, item(external_id="later")).status_code == 201
    assert AuditEvent.objects.filter(action="feedback.intake_key_issue").count() == 2
    assert AuditEvent.objects.filter(action="feedback.intake_key_revoke").count() == 1
    assert printed not in json.dumps(list(AuditEvent.objects.values("details")), default=str)


@pytest.mark.parametrize("source", ["Sprinklr Tool", "", "a" * 61])
def test_a_source_must_be_a_slug(world, source):
    with pytest.raises(CommandError):
        call_command("portal_social_intake_key", "create", "--name", "Sprinklr", "--source", source)
