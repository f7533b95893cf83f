"""Signed-out visitors in the access policy: only rules and scopes written for the public answer them,
never with PHI; a deactivated account sees nothing, not even what the public sees."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser, Group
from django.db.models import Q

from portal_social.community import rules  # noqa: F401  (registers the community rules)
from portal_social.community.models import Community, Membership, Post, Thread
from portal_social.core import access, roles
from portal_social.core.models import AuditEvent


@pytest.fixture
def registry(monkeypatch):
    """Rules and scopes registered in a test are forgotten after it."""
    monkeypatch.setattr(access, "_rules", {key: list(found) for key, found in access._rules.items()})
    monkeypatch.setattr(access, "_scopes", {key: list(found) for key, found in access._scopes.items()})
    monkeypatch.setattr(
        access, "_anonymous_scopes", {key: list(found) for key, found in access._anonymous_scopes.items()}
    )


@pytest.fixture
def public_content(make_user):
    author = make_user(roles.PATIENT)
    community = Community.objects.create(name="Public", slug="public", visibility=Community.Visibility.PUBLIC)
    Membership.objects.create(community=community, user=author)
    thread = Thread.objects.create(community=community, author=author, title="Hello", visible=True)
    post = Post.objects.create(
        thread=thread, author=author, is_opening=True, status=Post.Status.PUBLISHED, body_source="Hi", body_html="Hi"
    )
    return community, thread, post


@pytest.mark.django_db
def test_rules_and_scopes_not_written_for_the_public_are_never_asked_about_a_signed_out_visitor(registry):
    asked = []

    @access.rule(Group, "peek")
    def _anyone(user, group):
        asked.append(("rule", user))
        return True

    @access.scope(Group)
    def _every_group(user):
        asked.append(("scope", user))
        return Q()

    group = Group.objects.create(name="Somebody's group")
    visitor = AnonymousUser()
    assert access.can(visitor, "peek", group) is False
    with pytest.raises(access.NotFound):
        access.require(visitor, "peek", group)
    assert not access.visible(visitor, Group.objects.all()).exists()
    assert asked == []


@pytest.mark.django_db
def test_a_public_rule_answers_for_visitors_and_the_others_stay_silent(registry):
    asked = []

    @access.rule(Group, "peek", anonymous=True)
    def _named_public(user, group):
        asked.append("public")
        return group.name.startswith("Public")

    @access.rule(Group, "peek")
    def _members_only(user, group):
        asked.append("members")
        return True

    @access.scope(Group, anonymous=True)
    def _public_groups(user):
        return Q(name__startswith="Public")

    @access.scope(Group)
    def _all_groups(user):
        asked.append("members scope")
        return Q()

    public, other = Group.objects.create(name="Public group"), Group.objects.create(name="Other group")
    visitor = AnonymousUser()
    assert access.can(visitor, "peek", public) is True
    assert access.can(visitor, "peek", other) is False
    assert list(access.visible(visitor, Group.objects.filter(pk__in=[public.pk, other.pk]))) == [public]
    assert "members" not in asked and "members scope" not in asked


def test_a_rule_that_opens_phi_cannot_answer_for_visitors(registry):
    before = {key: list(found) for key, found in access._rules.items()}
    with pytest.raises(ValueError):
        access.rule(Group, "peek", anonymous=True, phi=True)
    with pytest.raises(ValueError):
        access.rule(Group, "peek", phi=True, anonymous=True, patient=lambda group: None)
    assert access._rules == before
    assert access.patient_of(Group(name="x")) is None  # the refused rule's hook was not kept


@pytest.mark.django_db
def test_a_deactivated_account_sees_nothing_even_what_the_public_sees(registry, make_user, public_content):
    community, thread, post = public_content
    asked = []

    @access.rule(Group, "peek", anonymous=True)
    def _public(user, group):
        asked.append(user)
        return True

    @access.scope(Group, anonymous=True)
    def _all_public(user):
        return Q()

    gone = make_user(roles.PATIENT, is_active=False)
    Membership.objects.create(community=community, user=gone)
    group = Group.objects.create(name="Public group")
    for obj in (community, thread, post):
        assert access.can(gone, "view", obj) is False
        assert access.can(AnonymousUser(), "view", obj) is True
        with pytest.raises(access.NotFound):
            access.require(gone, "view", obj)
    assert access.can(gone, "peek", group) is False
    for model in (Community, Thread, Post, Group):
        assert not access.visible(gone, model.objects.all()).exists()
    assert access.visible(AnonymousUser(), Community.objects.all()).get() == community
    assert gone not in asked


@pytest.mark.django_db
def test_a_visitor_opening_public_content_writes_no_phi_read(public_content):
    before = AuditEvent.objects.count()
    for obj in public_content:
        assert access.require(AnonymousUser(), "view", obj) == obj
    assert AuditEvent.objects.count() == before
    assert not AuditEvent.objects.filter(action="phi.read").exists()


@pytest.mark.django_db
def test_public_content_of_a_model_that_also_has_phi_rules_is_opened_without_a_phi_read(registry):
    """Allowed by the public rule alone, a visitor opened no PHI: nothing to record, and nothing to fail on."""

    @access.rule(Group, "peek", anonymous=True)
    def _public(user, group):
        return group.name.startswith("Public")

    @access.rule(Group, "peek", phi=True)
    def _clinical(user, group):
        return False

    group = Group.objects.create(name="Public group")
    before = AuditEvent.objects.count()
    assert access.require(AnonymousUser(), "peek", group) == group
    assert AuditEvent.objects.count() == before
