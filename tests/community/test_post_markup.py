"""The thread page's post markup (``views.post_markup``): everything escaped but the sanitised body, and the
same ``<li>`` on the page and from the live-reply endpoint."""

from __future__ import annotations

import datetime
import re
import types
import uuid

import pytest
from django.test import RequestFactory
from django.utils import timezone

from portal_social.community.views import post_markup

HOSTILE = '<script>alert("x")</script>'


def _context():
    community = types.SimpleNamespace(slug="heart-health")
    thread = types.SimpleNamespace(pk=uuid.uuid4())
    return {"community": community, "thread": thread, "post_words": {"permalink": "Link to this post"}}


def _post(**fields):
    base = {
        "pk": uuid.uuid4(),
        "author_id": 7,
        "created_at": timezone.make_aware(datetime.datetime(2026, 3, 3, 14, 5)),
        "edited_at": None,
        "by_caregiver": False,
        "body_html": "<p>Walking helps <strong>me</strong>.</p>",
    }
    return types.SimpleNamespace(**{**base, **fields})


def _reaction(label, count=0, **fields):
    reaction = {"kind": "hug", "label": label, "count": count, "mine": False, "count_text": ""}
    return {**reaction, **fields}


def _render(row):
    request = RequestFactory().get("/")
    return str(post_markup.post_item(row, post_markup.words(request, _context())))


def test_every_value_but_the_sanitised_body_is_escaped():
    post = _post(edited_at=timezone.now())
    row = {
        "post": post,
        "handle": HOSTILE,
        "member_url": '/x"onmouseover="alert(1)',
        "card_meta": HOSTILE,
        "badges": [HOSTILE],
        "by_text": HOSTILE,
        "permalink": f"/community/p/{post.pk}/",
        "quote_url": "/q?a=1&b=2",
        "flag_url": "/flag/",
        "reactions": [_reaction(HOSTILE, count=2)],
        "reaction_total": 2,
        "may_edit": True,
    }
    markup = _render(row)
    assert "<script>" not in markup and "&lt;script&gt;" in markup
    assert 'onmouseover="' not in markup  # the quote cannot close the attribute
    assert 'href="/q?a=1&amp;b=2"' in markup
    assert "<p>Walking helps <strong>me</strong>.</p>" in markup  # body_html as written (sanitised at write time)
    assert 'datetime="2026-03-03T14:05:00' in markup and "3 Mar 2026 14:05" in markup
    assert "ps-post__edited" in markup and "/edit/" in markup


def test_a_row_an_annotator_left_bare_still_renders():
    """A site may turn an annotator off: the post shows with what the others gave it, no error."""
    post = _post()
    markup = _render({"post": post})
    assert f'id="post-{post.pk}"' in markup and "A former member" in markup
    assert "ps-reactions" not in markup and "ps-post__edits" not in markup


def test_held_posts_are_marked_and_forms_carry_the_csrf_field():
    post = _post()
    row = {
        "post": post,
        "handle": "walker",
        "held": True,
        "may_react": True,
        "reactions": [_reaction("Hug")],
        "react_url": "/react/",
        "may_choose_answer": True,
    }
    markup = _render(row)
    assert 'class="ps-post ps-post--held"' in markup and "Waiting for a moderator" in markup
    assert len(re.findall(r'name="csrfmiddlewaretoken" value="[A-Za-z0-9]{64}"', markup)) == 2
    assert f'name="post" value="{post.pk}"' in markup and "Choose as the answer" in markup


#: Every text a row can carry, and where (a field of the row, or of its one reaction).
_ROW_TEXT = (
    "handle",
    "member_url",
    "card_meta",
    "by_text",
    "permalink",
    "quote_url",
    "flag_url",
    "reactions_url",
    "react_url",
)
_REACTION_TEXT = ("kind", "label", "count_text", "count")
_BREAKOUTS = ('"><img src=x onerror=alert(1)>', "'><svg onload=alert(1)>", "</textarea><script>alert(1)</script>")


def _full_row(post, **overrides):
    row = {
        "post": post,
        "handle": "walker",
        "member_url": "/community/people/walker/",
        "card_meta": "Joined March 2025",
        "badges": ["First post"],
        "moderator": True,
        "by_text": "by walker",
        "permalink": "/p/",
        "quote_url": "/q/",
        "flag_url": "/f/",
        "reactions_url": "/r/",
        "react_url": "/react/",
        "may_react": True,
        "reactions": [_reaction("Hug", count=1)],
        "reaction_total": 1,
        "may_choose_answer": True,
        "answer": True,
        "may_edit": True,
        "may_delete": True,
        "may_history": True,
    }
    return {**row, **overrides}


@pytest.mark.parametrize("attack", _BREAKOUTS)
def test_no_field_of_a_row_can_break_out_of_its_place(attack):
    """The rule of the module, field by field: text in any field stays text, in every branch it reaches."""
    post = _post(edited_at=timezone.now(), by_caregiver=True)
    cases = [_full_row(post, **{field: attack}) for field in _ROW_TEXT]
    cases += [_full_row(post, reactions=[{**_reaction("Hug", count=1), field: attack}]) for field in _REACTION_TEXT]
    cases += [_full_row(post, may_react=False, reactions=[_reaction(attack, count=1)])]  # the tallies
    cases += [_full_row(post, badges=[attack])]
    for row in cases:
        markup = _render(row)
        assert "<img" not in markup and "<svg" not in markup and "<script" not in markup, row
        assert "</textarea>" not in markup


def test_the_words_of_the_page_are_escaped_too():
    request = RequestFactory().get("/")
    context = _context()
    context["post_words"] = {key: HOSTILE for key in ("permalink", "who_reacted", "quote", "flag", "reactions")}
    markup = str(post_markup.post_item(_full_row(_post()), post_markup.words(request, context)))
    assert "<script>" not in markup and markup.count("&lt;script&gt;") >= 4
