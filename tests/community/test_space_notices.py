"""Notices of a clinician space name the space (a name staff set) and nothing in it, and the daily summary
counts them by space: "3 new posts in Cardiology case review". ``notify.NameOf`` names only fields that
``core.user_text`` declares not user-written."""

from __future__ import annotations

import pytest
from django.core import mail

from portal_social.community import actions
from portal_social.community.models import Community, Membership
from portal_social.core import notify
from portal_social.core.notify.models import Notification, NotificationPreference
from tests.community import test_spaces

pytestmark = pytest.mark.django_db

#: The spaces' fixtures: a case-review space (owner, colleague, nurse), a staff space, a patient community.
people, world = test_spaces.people, test_spaces.world


def test_a_reply_in_a_space_names_the_space_and_a_patient_community_reply_does_not(world):
    people = world["people"]
    reply = actions.reply(author=people["nurse"], thread=world["thread"], body="Repeat troponin at 18:00.")
    notice = Notification.objects.get(key="space.reply", recipient=people["owner"], params__post=str(reply.pk))
    assert notice.params["space"] == str(world["case_review"].pk)
    message = notify.render_notification(notice)
    assert message.subject == "A new reply in Cardiology case review"
    assert "troponin" not in f"{message.subject} {message.text} {message.html}".lower()
    patients_thread = actions.start_thread(
        author=people["owner"], community=world["patients"], title="Walking", body="Two walks a day."
    ).thread
    answer = actions.reply(author=people["patient"], thread=patients_thread, body="Same here.")
    plain = Notification.objects.get(key="community.reply", recipient=people["owner"], params__post=str(answer.pk))
    assert "space" not in plain.params


def test_the_daily_summary_counts_a_spaces_posts_in_one_line(world):
    people, space = world["people"], world["case_review"]
    NotificationPreference.objects.create(user=people["owner"], frequency="daily")
    Membership.objects.filter(community=space, user=people["owner"]).update(notifications="daily")
    actions.reply(author=people["nurse"], thread=world["thread"], body="Repeat troponin at 18:00.")
    actions.reply(author=people["colleague"], thread=world["thread"], body="Agreed, and an echo.")
    actions.start_thread(author=people["colleague"], community=space, title="Second case", body="Another one.")
    waiting = Notification.objects.filter(recipient=people["owner"], status="digest")
    assert sorted(waiting.values_list("key", flat=True)) == ["space.new_thread", "space.reply", "space.reply"]
    mail.outbox.clear()
    assert notify.send_digests() >= 1
    (summary,) = [m for m in mail.outbox if people["owner"].email in m.to]
    assert summary.body.count("3 new posts in Cardiology case review") == 1
    for secret in ("troponin", "echo", "Second case", "Another one", "Repeat"):
        assert secret not in summary.body


def test_named_objects_are_counted_apart_and_a_missing_one_is_not_named(world, make_user):
    other = Community.objects.create(name="Medical staff lounge", slug="lounge", kind="space")
    patients = world["patients"]
    recipient = world["people"]["owner"]
    rows = [
        Notification(recipient=recipient, key="space.reply", params=params, status="digest")
        for params in (
            {"thread": str(world["thread"].pk), "post": str(world["reply"].pk), "space": str(world["case_review"].pk)},
            {"thread": str(world["thread"].pk), "post": str(world["opening"].pk), "space": str(other.pk)},
            # A patient community is never named, whatever a notice holds.
            {"thread": str(world["thread"].pk), "post": str(world["opening"].pk), "space": str(patients.pk)},
        )
    ]
    lines = notify._digest_lines(rows)
    assert lines == [
        "1 new post in Cardiology case review",
        "1 new post in Medical staff lounge",
        "1 new post in a clinician space",
    ]


def test_only_fields_nobody_writes_may_be_named():
    for model, field in (("portal_social.Post", "body_source"), ("portal_social.Thread", "title")):
        with pytest.raises(ValueError, match="not user-written"):
            notify.register(
                notify.Template(
                    key=f"test.named.{field}",
                    subject="%(thing)s",
                    body="x",
                    params={"thing": notify.NameOf(model, field)},
                )
            )
    with pytest.raises(notify.InvalidParameter):  # a name itself is never a parameter's value
        notify.clean_params(notify.get_template("space.reply"), {"thread": "x", "post": "y", "space": "Cardiology"})
