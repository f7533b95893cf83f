"""Secure messaging's PHI at rest: what patients, caregivers and nurses write, then a search of every store.

Through the real pages, a patient, their caregiver and a pool nurse type
distinctive identifiers (phone, SSN, MRN, email, street address, a person's
name) into every field secure messaging has: a conversation's subject, the
first message and replies, an attachment's file name and its content, and a
message its sender then retracts. After the journey has committed and the
notification tasks have run, none of them may be found, in any encoding, in
the SQLite database (raw pages and a ``VACUUM INTO`` file) or a real
``pg_dump`` of PostgreSQL, the private files folder, the sessions, the cache,
the mail sent, or the log records. Control values prove each search sees
what it searches: a clear column's value is found, and each encrypted store
holds tokens.
"""

from __future__ import annotations

import datetime
import json
import logging
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.contrib.messages.storage.cookie import CookieStorage
from django.contrib.sessions.models import Session
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.utils import timezone

from portal_social.core.crypto import TOKEN_PREFIX, EncryptedTextField
from portal_social.messaging import tasks
from portal_social.messaging.models import Attachment, CarePool, Conversation, Message
from tests.factories import sign_in
from tests.privacy.plaintext import (
    Canary,
    cache_bytes,
    contains,
    find_plaintext,
    pg_dump_bytes,
    phi_values,
    sqlite_bytes,
)

ON_POSTGRES = bool(os.environ.get("DATABASE_URL"))
COMPOSE = "/messages/new/"
committed = pytest.mark.django_db(transaction=True, serialized_rollback=True)

#: The pool's name is a clear column: every dump must show it, or the search is blind.
CONTROL_POOL = "Cardiology canary-control-pool-60412"


def _short(n: int, tag: str, surname: str) -> dict[str, str]:
    """Identifiers that fit a subject line (120 characters)."""
    values = phi_values(n, tag, surname)
    return {key: values[key] for key in ("name", "mrn", "phone", "ssn")}


# Every field, each with its own values, so a find names the field.
PATIENT_SUBJECT = Canary("patient's subject", _short(41, "psubject", "Wintergreen"))
PATIENT_BODY = Canary("patient's first message", phi_values(42, "pbody", "Quillfeather"))
PATIENT_REPLY = Canary("patient's reply with an attachment", phi_values(43, "preply", "Marchbanks"))
FILE_NAME = Canary("attachment file name", {"name": "Philippa Fotheringay", "mrn": "MRN 88412944"})
FILE_CONTENT = Canary("attachment content", phi_values(45, "pdf", "Ollerenshaw"))
RETRACTED = Canary("retracted message", phi_values(46, "retracted", "Thistlewood"))
CAREGIVER_SUBJECT = Canary("caregiver's subject", _short(47, "csubject", "Pennywhistle"))
CAREGIVER_BODY = Canary("caregiver's first message", phi_values(48, "cbody", "Brackenridge"))
CAREGIVER_REPLY = Canary("caregiver's reply", phi_values(49, "creply", "Higginbottom"))
NURSE_REPLY = Canary("nurse's reply", phi_values(50, "nreply", "Featherstonehaugh"))
NURSE_SECOND = Canary("nurse's reply to the caregiver", phi_values(51, "nsecond", "Ravenscroft"))

CANARIES = [
    PATIENT_SUBJECT,
    PATIENT_BODY,
    PATIENT_REPLY,
    FILE_NAME,
    FILE_CONTENT,
    RETRACTED,
    CAREGIVER_SUBJECT,
    CAREGIVER_BODY,
    CAREGIVER_REPLY,
    NURSE_REPLY,
    NURSE_SECOND,
]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n" + f"(Lab results for {FILE_CONTENT.text})".encode() + b"\ntrailer<<>>\n%%EOF\n"


@dataclass
class Journey:
    """What the journey left behind, for the checks."""

    mine: Conversation
    theirs: Conversation
    private_root: Path
    clients: list[Client] = field(default_factory=list)


def _signed_in(journey_clients: list[Client], user) -> Client:
    client = Client()
    sign_in(client, user)
    journey_clients.append(client)
    return client


def _compose(client: Client, world, subject: str, body: str, **extra) -> Conversation:
    form = {
        "patient": str(world.patient.pk),
        "pool": str(world.pool.pk),
        "topic": "medical_question",
        "subject": subject,
        "body": body,
        "submission": str(uuid.uuid4()),
        **extra,
    }
    response = client.post(COMPOSE, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Conversation.objects.get(pk=response["Location"].split("/")[3])


def _reply(client: Client, conversation: Conversation, body: str, **extra) -> Message:
    response = client.post(f"/messages/c/{conversation.pk}/", {"body": body, "submission": str(uuid.uuid4()), **extra})
    assert response.status_code == 302, response.content.decode()[:3000]
    return Message.objects.get(pk=response["Location"].split("?sent=")[1].split("#")[0])


@pytest.fixture
def journey(world, private_files, caplog) -> Journey:
    """Walk every place secure messaging takes text; return what the checks need."""
    # Everything portal_social logs, and every other logger at the level the portal configures.
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="portal_social")
    CarePool.objects.filter(pk=world.pool.pk).update(name=CONTROL_POOL)
    assert len(PATIENT_SUBJECT.text) <= 120 and len(CAREGIVER_SUBJECT.text) <= 120
    clients: list[Client] = []

    # The patient starts a conversation, then replies with a PDF whose name and content identify them.
    patient = _signed_in(clients, world.patient)
    assert patient.get(COMPOSE).status_code == 200
    mine = _compose(patient, world, PATIENT_SUBJECT.text, f"I feel dizzy. {PATIENT_BODY.text}")
    upload = SimpleUploadedFile(f"{FILE_NAME.text} labs.pdf", PDF, content_type="application/pdf")
    with_file = _reply(patient, mine, f"My results are attached. {PATIENT_REPLY.text}", attachment=upload)
    attachment = Attachment.objects.get(message=with_file)
    assert attachment.filename == f"{FILE_NAME.text} labs.pdf"

    # A message sent in error, then retracted by its sender.
    oops = _reply(patient, mine, f"Sorry, wrong person. {RETRACTED.text}")
    response = patient.post(f"/messages/c/{mine.pk}/m/{oops.pk}/retract/")
    assert response.status_code == 302
    oops.refresh_from_db()
    assert oops.retracted_at is not None

    # The caregiver writes for the patient: a new conversation, and a reply in the patient's.
    caregiver = _signed_in(clients, world.caregiver)
    theirs = _compose(caregiver, world, CAREGIVER_SUBJECT.text, f"For my mother. {CAREGIVER_BODY.text}")
    assert Message.objects.get(conversation=theirs).side == Message.Side.CAREGIVER
    _reply(caregiver, mine, f"I drove her there. {CAREGIVER_REPLY.text}")

    # The pool nurse (a session that passed the second factor) reads and answers both.
    nurse = _signed_in(clients, world.nurse)
    page = nurse.get(f"/messages/c/{mine.pk}/")
    assert page.status_code == 200
    shown = page.content.decode()
    assert PATIENT_REPLY.values["name"] in shown and CAREGIVER_REPLY.values["mrn"] in shown
    assert RETRACTED.values["name"] not in shown
    download = nurse.get(f"/messages/c/{mine.pk}/a/{attachment.pk}/")
    assert download.status_code == 200 and FILE_CONTENT.values["ssn"].encode() in download.content
    _reply(nurse, mine, f"Please come in on Monday. {NURSE_REPLY.text}", reply_directly="on")
    _reply(nurse, theirs, f"Thank you for telling us. {NURSE_SECOND.text}")

    # The patient and the caregiver read the answers (read receipts), then the patient writes again.
    assert patient.get(f"/messages/c/{mine.pk}/").status_code == 200
    assert caregiver.get(f"/messages/c/{theirs.pk}/").status_code == 200
    _reply(patient, mine, "Thank you, Monday works.")

    # The notification tasks: deliveries ran at each commit (immediate backend); the late-reply escalation
    # and the unread reminders are due a week from now.
    tasks.sweep(now=timezone.now() + datetime.timedelta(days=7))
    return Journey(mine=mine, theirs=theirs, private_root=private_files, clients=clients)


def _assert_no_plaintext(where: str, data: bytes) -> None:
    leaks = find_plaintext(data, CANARIES)
    assert not leaks, f"plaintext PHI in {where}:\n" + "\n".join(leaks)


def _assert_controls_visible(data: bytes) -> None:
    assert contains(data, CONTROL_POOL), "a clear column (the pool's name) is not visible"
    assert TOKEN_PREFIX.encode() in data, "no encrypted column is visible"
    # A live-update event kept for reconnecting clients: a JSON column of ids.
    assert contains(data, '"kind": "message"'), "a JSON column is not visible"


def _assert_messaging_columns_hold_only_tokens() -> None:
    quote = connection.ops.quote_name
    checked = 0
    for model in (Conversation, Message, Attachment):
        for column in [f.column for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT {quote(column)} FROM {quote(model._meta.db_table)}")  # noqa: S608
                values = [value for (value,) in cursor.fetchall() if value]
            assert all(value.startswith(TOKEN_PREFIX) for value in values), f"{model.__name__}.{column}"
            checked += len(values)
    # Two subjects, eight messages (source and HTML), one file name.
    assert (Conversation.objects.count(), Message.objects.count(), Attachment.objects.count()) == (2, 8, 1)
    assert checked == 2 + 8 * 2 + 1


@pytest.mark.skipif(ON_POSTGRES, reason="SQLite run")
@committed
def test_sqlite_database_file_holds_no_plaintext_of_what_people_wrote(journey):
    assert connection.vendor == "sqlite"
    data = sqlite_bytes(connection)
    _assert_controls_visible(data)
    _assert_no_plaintext("the SQLite database", data)
    _assert_messaging_columns_hold_only_tokens()


@pytest.mark.skipif(not ON_POSTGRES, reason="PostgreSQL run (DATABASE_URL)")
@committed
def test_pg_dump_holds_no_plaintext_of_what_people_wrote(journey):
    assert connection.vendor == "postgresql"
    data = pg_dump_bytes(connection)
    _assert_controls_visible(data)
    _assert_no_plaintext("pg_dump", data)
    _assert_messaging_columns_hold_only_tokens()


@committed
def test_private_files_folder_holds_the_attachment_encrypted_under_a_random_name(journey):
    stored = [path for path in journey.private_root.rglob("*") if path.is_file()]
    assert len(stored) == Attachment.objects.count() == 1
    data = b""
    for path in stored:
        raw = path.read_bytes()
        assert raw.startswith(TOKEN_PREFIX.encode()), f"{path.name} is not encrypted"
        assert b"%PDF" not in raw
        data += str(path.relative_to(journey.private_root)).encode() + b"\n" + raw + b"\n"
    _assert_no_plaintext("the private files folder (names and bytes)", data)


@committed
def test_sessions_cache_mail_and_logs_hold_none_of_it(journey, caplog):
    sessions = [json.dumps(session.get_decoded()) for session in Session.objects.all()]
    assert len(sessions) >= 3, "the journey's sessions are stored in the database"
    cookies = []
    for client in journey.clients:
        cookie = client.cookies.get("messages")
        if cookie is not None and cookie.value:
            cookies.append(json.dumps([str(m) for m in CookieStorage(HttpRequest())._decode(cookie.value) or []]))
    outbox = [
        "\n".join(
            [message.subject, message.body, *(str(content) for content, _type in getattr(message, "alternatives", []))]
        )
        for message in mail.outbox
    ]
    subjects = {message.subject for message in mail.outbox}
    # Each side heard of the other's messages, and the late reply escalated.
    assert "You have a new secure message" in subjects, subjects
    assert "A patient's secure message is waiting past its reply time" in subjects, subjects
    # Django logs a missing template variable at DEBUG with the whole template context: that level stays off.
    assert not logging.getLogger("django.template").isEnabledFor(logging.DEBUG)
    logs = [
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}"
        for record in caplog.get_records("setup") + caplog.records
    ]
    assert logs, "the journey was logged"
    cached = cache_bytes()
    assert cached, "the journey's rate-limit counters are in the cache"
    for name, data in (
        ("sessions", "\n".join(sessions).encode()),
        ("the messages cookie", "\n".join(cookies).encode()),
        ("email", "\n".join(outbox).encode()),
        ("logs", "\n".join(logs).encode()),
        ("the cache", cached),
    ):
        _assert_no_plaintext(name, data)
