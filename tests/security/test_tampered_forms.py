"""A tampered form gets a clear error, never a server error, and changes nothing."""

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from portal_social.core import moderation
from portal_social.profiles.models import Review
from tests.factories import sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator_client(world, settings):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    sign_in(client, world.moderator)
    return client


def _decide(client, review, **data):
    """A redaction posted on the review's pending queue item, at the version the queue shows unless forged."""
    item = moderation.pending_item(review)
    form = {"action": "redact", "version": item.version, **data}
    return client.post(reverse("portal_social_moderation_item", args=[item.pk]), form)


@pytest.mark.parametrize(
    "span",
    [
        "\u00b2:\u00b3",  # superscripts: str.isdigit() is true, int() refuses them
        "1:\u00b2",
        "\u0661:\u0662",  # Arabic-Indic digits: int() reads them, but no form ever sends them
        "\uff11:\uff12",  # full-width digits
        "0:" + "9" * 5_000,  # past int()'s digit limit
        "0:99999999999999999999",
        "-1:3",
        "3",
        ":",
        "a:b",
        "1:2:3",
        "\x00:1",
    ],
)
def test_a_forged_span_is_refused_with_a_message(world, moderator_client, span):
    response = _decide(moderator_client, world.held, span=span)
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_social_moderation_queue")
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("not valid" in m or "outside the comment" in m for m in messages), messages
    review = Review.objects.get(pk=world.held.pk)
    assert review.status == Review.Status.HELD and review.redactions == []


def test_too_many_spans_are_refused(world, moderator_client):
    response = _decide(moderator_client, world.held, span=[f"{i}:{i + 1}" for i in range(201)])
    assert response.status_code == 302
    assert any("Too many" in str(m) for m in get_messages(response.wsgi_request))
    assert Review.objects.get(pk=world.held.pk).status == Review.Status.HELD


def test_a_real_span_still_redacts(world, moderator_client):
    start = world.held.comment_source.index("555")
    response = _decide(moderator_client, world.held, span=f"{start}:{start + 12}")
    assert response.status_code == 302
    review = Review.objects.get(pk=world.held.pk)
    assert review.status == Review.Status.PUBLISHED
    assert "555-867-5309" not in review.comment_html and "[phone removed]" in review.comment_html


@pytest.mark.parametrize("version", ["", "abc", "\u00b2", "9" * 5_000, "-1", "0", "2", "1.0", "\x00"])
def test_a_forged_version_is_refused_with_a_message(world, moderator_client, version):
    item = moderation.pending_item(world.held)
    response = _decide(moderator_client, world.held, version=version, all_findings="on")
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_social_moderation_queue")
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("changed since you opened it" in m for m in messages), messages
    review = Review.objects.get(pk=world.held.pk)
    assert review.status == Review.Status.HELD and review.redactions == []
    assert moderation.pending_item(world.held).version == item.version


@pytest.mark.parametrize(
    ("back", "expected"),
    [
        ("https://evil.example/", ""),
        ("//evil.example/cms/", ""),
        ("?type=review&next=https://evil.example/", "?type=review"),
        ("?type=review&p=2", "?type=review&p=2"),
        ("\x00" * 2_000, ""),
    ],
)
def test_a_forged_return_address_stays_on_the_queue(world, moderator_client, back, expected):
    response = _decide(moderator_client, world.held, span="x:y", **{"return": back})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal_social_moderation_queue") + expected


@pytest.mark.parametrize("pk", ["9223372036854775808", "9" * 40, "\u00b2", "\u0661", "-1", "1.0", " 1", "1\x00"])
def test_a_forged_taxonomy_choice_is_a_form_error(world, settings, pk):
    settings.DEBUG = False
    client = Client(raise_request_exception=False)
    sign_in(client, world.owner)
    url = world.page.url + world.page.reverse_subpage("edit_profile")
    response = client.post(url, {"pronouns": "she/her", "bio": "", "languages": [pk], "conditions": [pk]})
    assert response.status_code == 200
    assert "is not a valid value" in response.content.decode()
    assert not type(world.page).objects.get(pk=world.page.pk).has_unpublished_changes
