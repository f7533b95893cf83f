"""One decision, one place: the profile page offers exactly what ``core.access`` allows,
and the actions refuse exactly what it refuses."""

import pytest
from django.core.exceptions import PermissionDenied

from portal_social.adapter import PortalAdapter
from portal_social.conf import app_settings
from portal_social.core import access, roles
from portal_social.core.models import CareTeamLink
from portal_social.profiles import actions
from portal_social.profiles.models import ClinicianPage, Review
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

USERS = ("patient", "caregiver", "clinician_linked", "other_clinician", "moderator", "px", "anonymous")
DECISIONS = ("review", "appeal", "edit_profile", "respond", "report")


def _ratings(value=4):
    return {key: value for key, _label in app_settings.REVIEW_QUESTIONS}


@pytest.fixture
def published(make_patient, clinician):
    """A published review with a comment, by a patient who is not in the matrix."""
    review = actions.submit_review(
        author=make_patient(), clinician=clinician, ratings=_ratings(), comment="Kind and clear."
    )
    assert review.status == Review.Status.PUBLISHED
    return review


@pytest.fixture
def people(make_patient, make_user, clinician_user, moderator, px):
    caregiver = make_user(roles.CAREGIVER)
    CareTeamLink.objects.create(patient=caregiver, clinician_user=clinician_user)  # a care link is not enough
    return {
        "patient": make_patient(),
        "caregiver": caregiver,
        "clinician_linked": clinician_user,
        "other_clinician": make_user(roles.CLINICIAN, mfa=True),
        "moderator": moderator,
        "px": px,
        "anonymous": None,
    }


def _policy(user, clinician, review) -> dict[str, bool]:
    from django.contrib.auth.models import AnonymousUser

    user = user or AnonymousUser()
    page = ClinicianPage.objects.get(pk=clinician.pk)
    return {
        "review": access.can(user, "review", page),
        "appeal": access.can(user, "appeal", review),
        "edit_profile": access.can(user, "edit_profile", page),
        "respond": access.can(user, "respond", review),
        "report": access.can(user, "report", review),
    }


def _offered(response, review) -> dict[str, bool]:
    """What the rendered profile page offers this user, read from its context."""
    context = response.context
    [shown] = [item for item in context["reviews"].object_list if item.pk == review.pk]
    return {
        "review": context["offer_review"],
        "appeal": shown.can_appeal,
        "edit_profile": context["can_edit_profile"],
        "respond": shown.can_respond,
        "report": shown.can_report,
    }


def _links(html: str, clinician, review) -> dict[str, bool]:
    """The same, read from the HTML: the control is there or it is not."""
    return {
        "review": ">Write a review<" in html,
        "appeal": clinician.reverse_subpage("appeal_review", args=(review.pk,)) in html,
        "edit_profile": clinician.reverse_subpage("edit_profile") in html,
        "respond": f"/cms/portal-social/reviews/{review.pk}/respond/" in html,
        "report": clinician.reverse_subpage("report_review", args=(review.pk,)) in html,
    }


@pytest.mark.parametrize("who", USERS)
def test_profile_page_offers_what_the_policy_allows(client, people, clinician, published, who):
    user = people[who]
    if user is not None:
        sign_in(client, user)
    response = client.get(clinician.url)
    assert response.status_code == 200
    policy = _policy(user, clinician, published)
    assert _offered(response, published) == policy
    links = _links(response.content.decode(), clinician, published)
    if user is None:
        # Signed out, the report link leads to sign-in first; nothing else is offered.
        assert links == {**{decision: False for decision in DECISIONS}, "report": True}
    else:
        assert links == policy
    expected = {
        "patient": {"review", "report"},
        "caregiver": {"report"},
        "clinician_linked": {"appeal", "edit_profile", "report"},
        "other_clinician": {"report"},
        "moderator": {"report"},
        "px": {"respond", "report"},
        "anonymous": set(),
    }[who]
    assert {decision for decision, allowed in policy.items() if allowed} == expected


@pytest.mark.parametrize("answer", [True, False])
def test_profile_page_asks_the_policy_and_nothing_else(client, people, clinician, published, monkeypatch, answer):
    """With every rule answering the same, the page follows: it holds no rule of its own."""
    asked = set()

    def policy(user, action, obj):
        asked.add(action)
        return answer

    monkeypatch.setattr(access, "can", policy)
    sign_in(client, people["caregiver"])
    response = client.get(clinician.url)
    assert set(DECISIONS) <= asked
    assert _offered(response, published) == {decision: answer for decision in DECISIONS}


# --------------------------------------------------------------------------- review


class _NobodyMayReview(PortalAdapter):
    def can_review(self, user, clinician) -> bool:
        return False


class _EveryoneMayReview(PortalAdapter):
    def can_review(self, user, clinician) -> bool:
        return True


@pytest.mark.parametrize(
    ("adapter", "allowed"), [(_NobodyMayReview, False), (_EveryoneMayReview, True)], ids=["refused", "allowed"]
)
def test_review_rule_consults_the_adapter_and_submit_agrees(settings, make_user, clinician, adapter, allowed):
    settings.PORTAL_SOCIAL_ADAPTER = f"{__name__}.{adapter.__name__}"
    stranger = make_user(roles.PATIENT)  # no care link: only the adapter decides
    assert access.can(stranger, "review", clinician) is allowed
    if allowed:
        review = actions.submit_review(author=stranger, clinician=clinician, ratings=_ratings())
        assert review.author_id == stranger.pk
    else:
        with pytest.raises(actions.ReviewNotAllowed):
            actions.submit_review(author=stranger, clinician=clinician, ratings=_ratings())


def test_submit_review_asks_the_policy(patient, clinician, monkeypatch):
    """A patient the adapter accepts is refused when the policy's rule says no."""
    assert access.can(patient, "review", clinician)
    original = access.can
    monkeypatch.setattr(
        access, "can", lambda user, action, obj: False if action == "review" else original(user, action, obj)
    )
    with pytest.raises(actions.ReviewNotAllowed):
        actions.submit_review(author=patient, clinician=clinician, ratings=_ratings())
    assert not Review.objects.filter(author=patient).exists()


def test_a_page_that_is_not_live_takes_no_reviews(patient, clinician):
    clinician.unpublish()
    clinician = ClinicianPage.objects.get(pk=clinician.pk)
    assert not access.can(patient, "review", clinician)
    with pytest.raises(actions.ReviewNotAllowed):
        actions.submit_review(author=patient, clinician=clinician, ratings=_ratings())


# --------------------------------------------------------------------------- appeal


def test_appeal_link_follows_the_rule_not_the_page_owner(client, clinician, clinician_user, published, monkeypatch):
    """The page's owner is offered an appeal only where the rule allows it."""
    original = access.can
    monkeypatch.setattr(
        access, "can", lambda user, action, obj: False if action == "appeal" else original(user, action, obj)
    )
    sign_in(client, clinician_user)
    response = client.get(clinician.url)
    assert not response.context["can_appeal"]
    assert clinician.reverse_subpage("appeal_review", args=(published.pk,)) not in response.content.decode()


# --------------------------------------------------------------------------- edit_profile


def test_edit_profile_rule_needs_the_linked_account_holding_the_clinician_role(clinician, clinician_user):
    assert access.can(clinician_user, "edit_profile", clinician)
    roles.revoke_role(user=clinician_user, role=roles.CLINICIAN)
    clinician_user = type(clinician_user).objects.get(pk=clinician_user.pk)
    assert not access.can(clinician_user, "edit_profile", clinician)


def test_superuser_gets_no_edit_profile_pass(make_user, make_clinician):
    boss = make_user(is_superuser=True, is_staff=True)
    page = make_clinician("Sam", "Boss", user=boss)
    assert not access.can(boss, "edit_profile", page)


def test_profile_changes_denied_is_a_permission_denied():
    assert issubclass(actions.ProfileChangesDenied, PermissionDenied)


# --------------------------------------------------------------------------- respond


def test_response_page_asks_the_policy(client, px, published, monkeypatch):
    url = f"/cms/portal-social/reviews/{published.pk}/respond/"
    sign_in(client, px)
    assert client.get(url).status_code == 200
    original = access.can
    monkeypatch.setattr(
        access, "can", lambda user, action, obj: False if action == "respond" else original(user, action, obj)
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"body": "Thank you."}).status_code == 404


# --------------------------------------------------------------------------- report


def test_report_page_asks_the_policy(client, patient, clinician, published, monkeypatch):
    url = clinician.url + clinician.reverse_subpage("report_review", args=(published.pk,))
    sign_in(client, patient)
    assert client.get(url).status_code == 200
    original = access.can
    monkeypatch.setattr(
        access, "can", lambda user, action, obj: False if action == "report" else original(user, action, obj)
    )
    assert client.get(url).status_code == 404
    assert client.post(url, {"reason": "abusive"}).status_code == 404
