"""Watched words in the admin: validation, CSV import and export, and "Try it"."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from portal_social.core import roles, screening
from portal_social.core.screening import admin as _screening_admin  # noqa: F401  (registers the admin)
from portal_social.core.screening import policy, words
from portal_social.core.screening.models import WatchedWord
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

TRY_URL = "/cms/portal-social/screening/try/"
EXPORT_URL = "/cms/portal-social/screening/words.csv"
IMPORT_URL = "/cms/portal-social/screening/import/"


@pytest.fixture(autouse=True)
def _fresh_list():
    words.invalidate()
    yield
    words.invalidate()


@pytest.fixture
def word_editor(make_user):
    """Someone whose role may change watched words (as a portal administrator's will)."""
    user = make_user(roles.PORTAL_ADMINISTRATOR, mfa=True)
    group = Group.objects.create(name="Watched-word editors")
    group.permissions.add(Permission.objects.get(codename="change_watchedword"))
    user.groups.add(group)
    return user


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize(
    "pattern,code",
    [
        ("(a+)+b", "regex_unbounded"),
        ("a*", "regex_unbounded"),
        ("x{1,500}", "regex_unbounded"),
        ("(?:ab{1,5}){1,5}", "regex_nested"),
        (r"(a)\1", "regex_backreference"),
        ("[a-", "regex_invalid"),
        ("a{0,3}", "regex_empty"),
        ("a" * 201, "max_length"),
    ],
)
def test_unsafe_regular_expressions_are_refused(pattern, code):
    word = WatchedWord(word=pattern, match=policy.REGEX, action=policy.FLAG)
    with pytest.raises(ValidationError) as raised:
        word.full_clean(exclude=["updated_at"])
    assert raised.value.error_dict["word"][0].code == code


def test_a_bounded_regular_expression_is_accepted():
    WatchedWord(word=r"\bsh[i1!]{1,3}t", match=policy.REGEX, action=policy.FLAG).full_clean(exclude=["updated_at"])


def test_unknown_destinations_are_refused():
    word = WatchedWord(word="snorkel", destinations=["twitter"])
    with pytest.raises(ValidationError):
        word.full_clean(exclude=["updated_at"])


# --------------------------------------------------------------------------- CSV


def test_export_then_import_gives_back_the_same_list():
    WatchedWord.objects.all().delete()
    WatchedWord.objects.create(word="zorblax", action=policy.BLOCK, destinations=["community_post", "message"])
    WatchedWord.objects.create(word="frob nitz", action=policy.CENSOR, replacement="***", match=policy.ANYWHERE)
    WatchedWord.objects.create(word=r"-sh[i1]{1,2}t", match=policy.REGEX, action=policy.FLAG, enabled=False)
    WatchedWord.objects.create(word="=HYPERLINK(1)", action=policy.FLAG)
    fields = ("word", "match", "action", "replacement", "destinations", "enabled")
    before = sorted(WatchedWord.objects.values_list(*fields))
    exported = words.export_csv()
    assert "\n'=HYPERLINK(1)," in exported  # a spreadsheet does not run it

    WatchedWord.objects.all().delete()
    report = words.import_csv(exported.encode("utf-8"))
    assert report.ok and (report.created, report.updated) == (4, 0)
    assert sorted(WatchedWord.objects.values_list(*fields)) == before

    again = words.import_csv(exported)
    assert (again.created, again.updated) == (0, 4)
    assert WatchedWord.objects.count() == 4


def test_an_import_with_an_invalid_row_saves_nothing():
    count = WatchedWord.objects.count()
    csv_text = "word,match,action\nfine,word,flag\n(a+)+,regex,block\nother,word,explode\n"
    report = words.import_csv(csv_text)
    assert not report.ok
    assert [(line, field) for line, field, _codes in report.errors] == [(3, "word"), (4, "action")]
    assert WatchedWord.objects.count() == count


def test_an_import_changes_what_is_screened_at_once():
    screening.screen("zorblax", destination="community_post")  # the list is cached
    assert words.import_csv("word,action\nzorblax,block\n").ok
    assert screening.screen("zorblax", destination="community_post").outcome == "block"


def test_a_file_without_a_word_column_is_refused():
    assert words.import_csv("text,action\nx,block\n").errors == [(1, "file", ["no_word_column"])]


# --------------------------------------------------------------------------- the screens


@pytest.mark.parametrize("role", [roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER])
@pytest.mark.parametrize("url", [TRY_URL, EXPORT_URL, IMPORT_URL])
def test_the_screens_are_missing_for_staff_who_neither_moderate_nor_edit_words(client, make_user, role, url):
    sign_in(client, make_user(role, mfa=True))
    assert client.get(url).status_code == 404
    assert client.post(url, {"text": "x", "destination": "message"}).status_code == 404


@pytest.mark.parametrize("url", [TRY_URL, EXPORT_URL])
def test_portal_administrators_edit_words_so_they_reach_the_screens(client, make_user, url):
    sign_in(client, make_user(roles.PORTAL_ADMINISTRATOR, mfa=True))
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("role", [roles.PATIENT, roles.CLINICIAN])
def test_people_without_the_admin_never_reach_the_screens(client, make_user, role):
    sign_in(client, make_user(role, mfa=True))
    # Wagtail's own admin gate answers before the view does.
    assert client.post(TRY_URL, {"text": "x", "destination": "message"}).status_code in (403, 404)
    assert client.get(EXPORT_URL).status_code in (403, 404)


@pytest.mark.parametrize("url", [TRY_URL, EXPORT_URL, IMPORT_URL])
def test_a_superuser_without_a_role_gets_no_pass(client, make_user, url):
    sign_in(client, make_user(is_superuser=True, is_staff=True, mfa=True))
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("who", ["moderator", "word_editor"])
def test_moderators_and_word_editors_try_a_sample_with_an_unsaved_word(client, make_user, word_editor, who):
    user = make_user(roles.COMMUNITY_MODERATOR, mfa=True) if who == "moderator" else word_editor
    sign_in(client, user)
    assert client.get(TRY_URL).status_code == 200
    response = client.post(
        TRY_URL,
        {
            "text": "Call 555-867-5309 about the sn\u043erkel, I want to die",
            "destination": "community_post",
            "word": "snorkel",
            "match": policy.WHOLE_WORD,
            "action": policy.BLOCK,
        },
    )
    assert response.status_code == 200
    assert response.context["outcome"] == "hold"  # the PHI and the crisis; the unsaved word is only shown
    assert response.context["draft_count"] == 1
    page = response.content.decode()
    assert "phi.phone" in page and "crisis.self_harm" in page and "988" in page
    assert not WatchedWord.objects.filter(word="snorkel").exists()


def test_an_unsafe_unsaved_pattern_is_explained_not_run(client, make_user):
    sign_in(client, make_user(roles.COMMUNITY_MODERATOR, mfa=True))
    response = client.post(
        TRY_URL,
        {"text": "aaaa", "destination": "message", "word": "(a+)+$", "match": policy.REGEX, "action": policy.FLAG},
    )
    assert response.status_code == 200
    assert response.context["form"].errors["word"]
    assert "result" not in response.context


def test_a_moderator_exports_and_imports_through_the_admin(client, make_user):
    sign_in(client, make_user(roles.COMMUNITY_MODERATOR, mfa=True))
    exported = client.get(EXPORT_URL)
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    body = exported.content.decode()
    assert body.startswith("word,match,action,replacement,destinations,enabled\n")

    upload = SimpleUploadedFile("words.csv", b"word,action,destinations\nzorblax,block,review_comment\n")
    response = client.post(IMPORT_URL, {"file": upload})
    assert response.status_code == 302
    assert WatchedWord.objects.get(word="zorblax").destinations == ["review_comment"]

    bad = SimpleUploadedFile("words.csv", b"word,action\nzorblax,explode\n")
    response = client.post(IMPORT_URL, {"file": bad})
    assert response.status_code == 200
    assert response.context["report"].errors == [(2, "action", ["invalid_choice"])]


def test_a_word_editor_adds_a_word_in_the_snippet_admin_and_it_is_screened_at_once(client, word_editor):
    group = word_editor.groups.get(name="Watched-word editors")
    group.permissions.add(*Permission.objects.filter(codename__in=["add_watchedword", "view_watchedword"]))
    sign_in(client, word_editor)
    screening.screen("gadzooks", destination="review_comment")  # the list is cached
    listing = client.get("/cms/snippets/portal_social/watchedword/")
    assert listing.status_code == 200
    response = client.post(
        "/cms/snippets/portal_social/watchedword/add/",
        {
            "word": "gadzooks",
            "match": policy.WHOLE_WORD,
            "action": policy.REQUIRE_APPROVAL,
            "replacement": "",
            "destinations": ["review_comment", "community_post"],
            "enabled": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    word = WatchedWord.objects.get(word="gadzooks")
    assert sorted(word.destinations) == ["community_post", "review_comment"]
    assert screening.screen("gadzooks", destination="review_comment").held
    assert not screening.screen("gadzooks", destination="message").held


def test_moderators_and_administrators_manage_watched_words_through_their_roles(make_user):
    from portal_social.core import access, roles

    moderator = make_user(roles.COMMUNITY_MODERATOR)
    administrator = make_user(roles.PORTAL_ADMINISTRATOR)
    others = [make_user(role) for role in (roles.PATIENT, roles.CLINICIAN, roles.PATIENT_EXPERIENCE)]
    for verb in ("view", "add", "change", "delete"):
        perm = f"portal_social.{verb}_watchedword"
        assert access.holds(moderator, perm) and access.holds(administrator, perm)
        assert not any(access.holds(user, perm) for user in others)


def test_adding_changing_removing_and_importing_words_is_audited(client, make_user):
    """Screening decides what patients may publish: every change to the lists names who made it."""
    from portal_social.core import audit
    from portal_social.core.models import AuditEvent

    moderator = make_user(roles.COMMUNITY_MODERATOR, mfa=True)
    sign_in(client, moderator)
    fields = {"match": policy.WHOLE_WORD, "action": policy.FLAG, "replacement": "", "destinations": ["review_comment"]}
    added = client.post("/cms/snippets/portal_social/watchedword/add/", {"word": "gadzooks", "enabled": "on", **fields})
    assert added.status_code == 302
    word = WatchedWord.objects.get(word="gadzooks")
    changed = client.post(
        f"/cms/snippets/portal_social/watchedword/edit/{word.pk}/", {"word": "gadzooks", **fields, "enabled": ""}
    )
    assert changed.status_code == 302
    removed = client.post(f"/cms/snippets/portal_social/watchedword/delete/{word.pk}/")
    assert removed.status_code == 302 and not WatchedWord.objects.filter(pk=word.pk).exists()
    upload = SimpleUploadedFile("words.csv", b"word,action\nzorblax,block\nquibble,flag\n")
    assert client.post(IMPORT_URL, {"file": upload}).status_code == 302

    trail = list(AuditEvent.objects.filter(action__startswith="screening.").order_by("pk"))
    assert [event.action for event in trail] == [
        "screening.word_add",
        "screening.word_change",
        "screening.word_remove",
        "screening.words_import",
    ]
    assert all(event.actor_id == moderator.pk for event in trail)
    assert trail[0].target_id == str(word.pk) and trail[0].details["action"] == policy.FLAG
    assert trail[1].details["enabled"] is False
    assert trail[2].details == {"words": [str(word.pk)]}
    assert trail[3].details == {"created": 2, "updated": 0}
    assert not any("gadzooks" in str(event.details) for event in trail)
    assert audit.verify_chain()[1] is None


def test_a_refused_import_is_not_audited(client, make_user):
    from portal_social.core.models import AuditEvent

    sign_in(client, make_user(roles.COMMUNITY_MODERATOR, mfa=True))
    bad = SimpleUploadedFile("words.csv", b"word,action\nzorblax,explode\n")
    assert client.post(IMPORT_URL, {"file": bad}).status_code == 200
    assert not AuditEvent.objects.filter(action__startswith="screening.").exists()
