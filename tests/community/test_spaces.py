"""Clinician spaces: who sees them (members only, by every route), PHI-permitted case discussion, the
PHI-read audit, containment, and membership changes."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from portal_social.community import actions, rules
from portal_social.community.actions import spaces as space_actions
from portal_social.community.models import Community, CommunityProfile, Membership, Post, Thread
from portal_social.core import access, realtime, roles
from portal_social.core.models import AuditEvent
from portal_social.core.notify.models import Notification
from tests.factories import sign_in

pytestmark = pytest.mark.django_db

MRN = "MRN 40817265"
CASE = f"Case question: 58-year-old, {MRN}, troponin rising after PCI. Would you repeat the angiogram?"
#: Everyone the matrix asks about, and whether they belong to the case-review space.
MEMBERS = ("owner", "colleague", "nurse")
OUTSIDERS = ("anonymous", "clinician_outside", "patient", "caregiver", "community_moderator", "superuser")


@pytest.fixture
def people(established):
    found = {
        "anonymous": None,
        "owner": established(roles.CLINICIAN, mfa=True),
        "colleague": established(roles.CLINICIAN, mfa=True),
        "nurse": established(roles.CARE_TEAM, mfa=True),
        "clinician_outside": established(roles.CLINICIAN, mfa=True),
        "patient": established(roles.PATIENT),
        "caregiver": established(roles.CAREGIVER),
        "community_moderator": established(roles.COMMUNITY_MODERATOR, mfa=True),
        "superuser": established(None, is_superuser=True, is_staff=True, mfa=True),
    }
    for who, user in found.items():
        if user is not None:
            CommunityProfile.objects.create(user=user, handle=f"{who.replace('_', '-')}-h")
    return found


@pytest.fixture
def world(people):
    """A case-discussion space (owner, colleague, nurse) with a case thread and a reply; a staff space
    without PHI permission (owner only); a public patient community the patient belongs to."""
    case_review = Community.objects.create(name="Cardiology case review", slug="case-review", kind="space")
    case_review.phi_permitted = True
    case_review.save()
    staff = Community.objects.create(name="Medical staff", slug="medical-staff", kind="space")
    patients = Community.objects.create(name="Heart health", slug="heart-health", visibility="public")
    Membership.objects.create(community=case_review, user=people["owner"], role=Membership.Role.OWNER)
    Membership.objects.create(community=staff, user=people["owner"], role=Membership.Role.OWNER)
    for who in ("colleague", "nurse"):
        space_actions.add_member(actor=people["owner"], space=case_review, user=people[who])
    Membership.objects.create(community=patients, user=people["patient"])
    Membership.objects.create(community=patients, user=people["owner"])
    opening = actions.start_thread(
        author=people["owner"],
        community=case_review,
        title="Rising troponin after PCI",
        body=CASE,
        confirm_phi=True,
        patient_reference="40817265",
    )
    reply = actions.reply(author=people["colleague"], thread=opening.thread, body="I would repeat it. Sensorwatch.")
    return {
        "people": people,
        "case_review": case_review,
        "staff": staff,
        "patients": patients,
        "thread": opening.thread,
        "opening": opening,
        "reply": reply,
    }


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        sign_in(client, user)
    return client


def _routes(world) -> dict[str, tuple[str, str]]:
    """Every page of a space, and the same page for a space or thread that does not exist."""
    space, thread, post = world["case_review"], world["thread"], world["opening"]
    ghost_thread = "5f0c5a52-3b1a-4c8e-9a51-5a3c0e0c9d11"

    def community(name, *args):
        return reverse(f"portal_social_community:{name}", args=[space.slug, *args]), reverse(
            f"portal_social_community:{name}", args=["no-such-space", *args]
        )

    def in_thread(name, *args):
        return reverse(f"portal_social_community:{name}", args=[space.slug, thread.pk, *args]), reverse(
            f"portal_social_community:{name}", args=[space.slug, ghost_thread, *args]
        )

    def by_post(name):
        return reverse(f"portal_social_community:{name}", args=[post.pk]), reverse(
            f"portal_social_community:{name}", args=[ghost_thread]
        )

    return {
        "space page": community("community"),
        "members": community("space_members"),
        "new thread": community("new_thread"),
        "thread": in_thread("thread"),
        "live post": in_thread("thread_post", post.pk),
        "history": in_thread("post_history", post.pk),
        "edit": in_thread("edit_post", post.pk),
        "delete": in_thread("delete_post", post.pk),
        "flag": in_thread("flag", post.pk),
        "referral": in_thread("referral"),
        "follow": in_thread("follow"),
        "solve": in_thread("solve"),
        "pin": in_thread("pin"),
        "lock": in_thread("lock"),
        "slow mode": in_thread("slow_mode"),
        "files": in_thread("space_file", post.pk),  # a made-up file id: answered as for a thread of nothing
        "react": by_post("react"),
        "join": community("join"),
        "leave": community("leave"),
        "notifications": community("community_notifications"),
        "community slow mode": community("community_slow_mode"),
        "referrals": community("space_referrals"),
        "new referral": community("new_referral"),
        "permalink": by_post("permalink"),
        "who reacted": by_post("reactions"),
        "thread link": (
            reverse("portal_social_community:thread_link", args=[thread.pk]),
            reverse("portal_social_community:thread_link", args=[ghost_thread]),
        ),
    }


@pytest.mark.parametrize("who", OUTSIDERS)
def test_outside_the_space_every_route_answers_as_for_nothing_at_all(world, who):
    client = client_for(world["people"][who])
    for name, (real, ghost) in _routes(world).items():
        got, expected = client.get(real), client.get(ghost)
        assert got.status_code == expected.status_code, (who, name, got.status_code, expected.status_code)
        assert got.status_code in (302, 404, 405), (who, name)  # 405: a POST-only route, alike for both
        body = got.content.decode()
        assert "troponin" not in body and "Cardiology case review" not in body, (who, name)
        # Sent a form: the same answer again, and nothing changes.
        got, expected = client.post(real, {"body": "x", "on": "1", "set": "like:1"}), client.post(ghost, {})
        assert got.status_code == expected.status_code, ("POST", who, name, got.status_code, expected.status_code)
        assert got.status_code in (302, 404, 405), ("POST", who, name)
    assert Post.objects.filter(thread__community=world["case_review"]).count() == 2
    thread = Thread.objects.get(pk=world["thread"].pk)
    assert not (thread.pinned or thread.locked or thread.solved_post_id), who


@pytest.mark.parametrize("who", MEMBERS)
def test_members_read_the_space_its_thread_and_its_members(world, who):
    client = client_for(world["people"][who])
    routes = _routes(world)
    for name in ("space page", "members", "new thread", "thread", "live post"):
        response = client.get(routes[name][0])
        assert response.status_code == 200, (who, name, response.status_code)
    page = client.get(routes["thread"][0]).content.decode()
    assert "troponin rising" in page and "Sensorwatch" in page
    assert client.get(routes["permalink"][0]).status_code == 302


@pytest.mark.parametrize("who", [*MEMBERS, *OUTSIDERS])
def test_no_list_search_or_index_shows_a_space_to_anyone_outside_it(world, who):
    client = client_for(world["people"][who])
    index = client.get(reverse("portal_social_community:index")).content.decode()
    assert "Cardiology case review" not in index and "Medical staff" not in index  # spaces have their own list
    spaces = client.get(reverse("portal_social_community:spaces"))
    search = client.get(reverse("portal_social_community:search"), {"q": "troponin"})
    followed = client.get(reverse("portal_social_community:followed"))
    if who in MEMBERS:
        assert spaces.status_code == 200
        assert "Cardiology case review" in spaces.content.decode()
        assert ("Medical staff" in spaces.content.decode()) is (who == "owner")
    else:
        assert spaces.status_code == 404 or who == "clinician_outside"
        if spaces.status_code == 200:
            assert "Cardiology case review" not in spaces.content.decode()
        for response in (search, followed):
            assert "Rising troponin" not in response.content.decode()
    visible = access.visible(world["people"][who], Thread.objects.all()) if world["people"][who] else None
    if visible is not None and who not in MEMBERS:
        assert not visible.filter(community__kind="space").exists()


def test_the_rules_give_no_role_a_pass(world):
    people, space, thread = world["people"], world["case_review"], world["thread"]
    for who in OUTSIDERS:
        user = people[who]
        if user is None:
            continue
        for action in ("view", "post", "join", "moderate"):
            assert not access.can(user, action, space), (who, action)
        for action in ("view", "reply", "moderate", "follow"):
            assert not access.can(user, action, thread), (who, action)
        assert not access.can(user, "view", world["opening"]), who
        assert not access.can(user, "delete", world["opening"]), who
    assert access.can(people["owner"], "moderate", space)
    assert not access.can(people["colleague"], "moderate", space)
    assert access.can(people["nurse"], "reply", thread)
    # Flags go to the patient communities' moderators: a space has none of theirs.
    assert not access.can(people["colleague"], "flag", world["opening"])


def test_a_mention_of_someone_outside_the_space_tells_them_nothing(world):
    people = world["people"]
    before = Notification.objects.filter(recipient=people["clinician_outside"]).count()
    actions.reply(
        author=people["owner"], thread=world["thread"], body="@clinician-outside-h and @colleague-h, thoughts?"
    )
    assert Notification.objects.filter(recipient=people["clinician_outside"]).count() == before
    assert Notification.objects.filter(recipient=people["colleague"]).exists()


# --------------------------------------------------------------------------- PHI: warn, never hold


def test_a_case_space_warns_with_the_spans_and_posts_as_written_once_confirmed(world):
    owner = world["people"]["owner"]
    with pytest.raises(actions.PhiFound) as found:
        actions.reply(author=owner, thread=world["thread"], body=f"Follow-up on {MRN}: angiogram clear.")
    assert found.value.may_post_anyway
    assert any(f.kind == "phi" for f in found.value.result.findings)
    post = actions.reply(
        author=owner, thread=world["thread"], body=f"Follow-up on {MRN}: angiogram clear.", confirm_phi=True
    )
    assert post.status == Post.Status.PUBLISHED  # not held: no patient-community moderator reads a space
    assert MRN in post.body_html


def test_the_warning_page_highlights_the_details_and_offers_to_post(world):
    client = client_for(world["people"]["colleague"])
    thread_url = reverse("portal_social_community:thread", args=["case-review", world["thread"].pk])
    page = client.get(thread_url).content.decode()
    token = page.split('name="submission" value="')[1].split('"')[0]
    response = client.post(thread_url, {"body": f"Agree. {MRN} needs a repeat echo.", "submission": token})
    body = response.content.decode()
    assert response.status_code == 200
    assert "<mark" in body and "This space permits case discussion" in body
    assert 'name="confirm_phi"' in body
    response = client.post(
        thread_url, {"body": f"Agree. {MRN} needs a repeat echo.", "submission": token, "confirm_phi": "on"}
    )
    assert response.status_code == 302
    assert Post.objects.filter(thread=world["thread"], body_source__isnull=False).count() == 3


def test_a_space_without_case_discussion_refuses_patient_details(world):
    owner = world["people"]["owner"]
    with pytest.raises(actions.PhiFound) as found:
        actions.start_thread(
            author=owner, community=world["staff"], title="Rounds", body=f"Bed 4 is {MRN}.", confirm_phi=True
        )
    assert not found.value.may_post_anyway
    assert not Thread.objects.filter(community=world["staff"]).exists()


def test_titles_keep_patient_details_out_even_in_a_case_space(world):
    with pytest.raises(actions.PhiFound):
        actions.start_thread(
            author=world["people"]["owner"],
            community=world["case_review"],
            title=f"Patient {MRN}",
            body="See inside.",
            confirm_phi=True,
        )


def test_the_patient_reference_is_encrypted_and_never_in_the_audit_trail(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT patient_reference FROM portal_social_thread")
        stored = [row[0] for row in cursor.fetchall()]
    assert stored and all("40817265" not in str(value) for value in stored)
    client_for(world["people"]["nurse"]).get(
        reverse("portal_social_community:thread", args=["case-review", world["thread"].pk])
    )
    for event in AuditEvent.objects.all():
        assert "40817265" not in f"{event.reason} {event.details} {event.target_id}"


# --------------------------------------------------------------------------- every reading audited


def _reads(thread) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action="phi.read", target_id=str(thread.pk)).order_by("sequence"))


def test_each_reading_of_a_case_thread_is_a_phi_read_naming_the_tagged_patient(world, monkeypatch, make_user):
    patient = make_user(roles.PATIENT)
    from portal_social.adapter import PortalAdapter

    monkeypatch.setattr(
        PortalAdapter, "patient_for_reference", lambda self, ref: patient if ref == "40817265" else None
    )
    thread = world["thread"]
    url = reverse("portal_social_community:thread", args=["case-review", thread.pk])
    nurse = client_for(world["people"]["nurse"])
    assert nurse.get(url).status_code == 200
    assert nurse.get(url).status_code == 200
    reads = _reads(thread)
    assert len(reads) == 2
    assert {r.actor_id for r in reads} == {world["people"]["nurse"].pk}
    assert all(r.patient_id == patient.pk and "patient tagged" in r.reason for r in reads)
    live = reverse("portal_social_community:thread_post", args=["case-review", thread.pk, world["reply"].pk])
    assert nurse.get(live).status_code == 200
    assert len(_reads(thread)) == 3


def test_outsiders_write_no_read_and_a_space_without_case_discussion_writes_none(world):
    people = world["people"]
    thread = world["thread"]
    client_for(people["clinician_outside"]).get(
        reverse("portal_social_community:thread", args=["case-review", thread.pk])
    )
    assert _reads(thread) == []
    plain = actions.start_thread(author=people["owner"], community=world["staff"], title="Rota", body="Swap Friday?")
    client_for(people["owner"]).get(reverse("portal_social_community:thread", args=["medical-staff", plain.thread.pk]))
    assert _reads(plain.thread) == []


def test_break_the_glass_does_not_open_a_space(world):
    outside = world["people"]["clinician_outside"]
    assert access.holds(outside, "portal_social.break_glass")
    thread = world["thread"]
    with pytest.raises(access.NotFound):
        access.require(outside, "view", thread)
    assert not access.visible(outside, Thread.objects.filter(pk=thread.pk)).exists()


# --------------------------------------------------------------------------- containment


def test_quoting_a_case_post_anywhere_else_is_refused_and_recorded(world):
    owner = world["people"]["owner"]
    patients_thread = actions.start_thread(
        author=world["people"]["patient"], community=world["patients"], title="Walking", body="How far?"
    ).thread
    staff_thread = actions.start_thread(
        author=owner, community=world["staff"], title="Rota", body="Who covers Friday?"
    ).thread
    for thread in (patients_thread, staff_thread):
        before = Post.objects.filter(thread=thread).count()
        with pytest.raises(actions.CommunityDenied) as refused:
            actions.reply(author=owner, thread=thread, body="See this case.", quoted_post=world["opening"].pk)
        assert "case-discussion space" in refused.value.message
        assert Post.objects.filter(thread=thread).count() == before
    recorded = AuditEvent.objects.filter(action="space.containment")
    assert recorded.count() == 2
    assert all(event.target_id == str(world["opening"].pk) for event in recorded)


def test_a_refused_quote_is_said_on_the_page_and_nothing_is_posted(world):
    owner = world["people"]["owner"]
    staff_thread = actions.start_thread(
        author=owner, community=world["staff"], title="Rota", body="Who covers Friday?"
    ).thread
    client = client_for(owner)
    url = reverse("portal_social_community:thread", args=["medical-staff", staff_thread.pk])
    page = client.get(url).content.decode()
    token = page.split('name="submission" value="')[1].split('"')[0]
    response = client.post(url, {"body": "As discussed.", "submission": token, "quote": str(world["opening"].pk)})
    assert response.status_code == 403
    assert "cannot be quoted or linked anywhere else" in response.content.decode()
    assert Post.objects.filter(thread=staff_thread).count() == 1


def test_quoting_within_the_same_case_space_is_fine(world):
    post = actions.reply(
        author=world["people"]["nurse"], thread=world["thread"], body="Agreed.", quoted_post=world["reply"].pk
    )
    assert post.quoted_post_id == world["reply"].pk


# --------------------------------------------------------------------------- membership


def test_only_clinicians_and_care_team_staff_can_be_added(world):
    owner, space = world["people"]["owner"], world["case_review"]
    for who in ("patient", "caregiver", "community_moderator", "superuser"):
        with pytest.raises(actions.CommunityDenied):
            space_actions.add_member(actor=owner, space=space, user=world["people"][who])
    with pytest.raises(actions.CommunityDenied):  # a member is not a manager
        space_actions.add_member(actor=world["people"]["colleague"], space=space, user=world["people"]["owner"])
    membership = space_actions.add_member(actor=owner, space=space, user=world["people"]["clinician_outside"])
    assert membership.status == Membership.Status.ACTIVE
    assert AuditEvent.objects.filter(action="space.member_added").count() == 3  # two in the world, this one


def test_removing_a_member_ends_their_access_at_the_next_request_and_closes_their_sockets(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(realtime, "publish", lambda group, message: sent.append((group, message)))
    people, thread = world["people"], world["thread"]
    client = client_for(people["colleague"])
    url = reverse("portal_social_community:thread", args=["case-review", thread.pk])
    assert client.get(url).status_code == 200
    members = reverse("portal_social_community:space_members", args=["case-review"])
    membership = Membership.objects.get(community=world["case_review"], user=people["colleague"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(people["owner"]).post(members, {"do": "remove", "membership": membership.pk})
    assert response.status_code == 302
    assert client.get(url).status_code == 404
    assert (realtime.user_group_name(people["colleague"].pk), {"type": realtime.ACCESS_CHANGED}) in sent
    assert AuditEvent.objects.filter(action="space.member_removed").exists()


def test_the_last_owner_cannot_leave(world):
    owner = world["people"]["owner"]
    with pytest.raises(actions.CommunityDenied):
        space_actions.remove_member(actor=owner, space=world["case_review"], user=owner)
    response = client_for(owner).post(
        reverse("portal_social_community:space_members", args=["case-review"]), {"do": "leave"}
    )
    assert response.status_code == 400
    assert "needs an owner" in response.content.decode()
    assert rules.may_read(owner, world["case_review"])


def test_a_space_is_always_members_only_and_never_reviews_every_post(world):
    space = world["case_review"]
    space.visibility = "public"
    space.review_every_post = True
    space.save()
    space.refresh_from_db()
    assert space.visibility == "private" and not space.review_every_post
    community = world["patients"]
    community.phi_permitted = True
    community.save()
    community.refresh_from_db()
    assert not community.phi_permitted


# --------------------------------------------------------------------------- the demo


def test_the_demo_has_a_case_review_space_and_a_staff_space_run_twice(capsys):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    call_command("seed_demo", verbosity=0)
    capsys.readouterr()
    users = {u.username: u for u in get_user_model().objects.all()}
    case_review = Community.objects.get(slug="cardiology-case-review")
    staff = Community.objects.get(slug="medical-staff")
    assert case_review.kind == staff.kind == "space"
    assert case_review.phi_permitted and not staff.phi_permitted
    members = set(
        Membership.objects.filter(community=case_review, status="active").values_list("user__username", flat=True)
    )
    assert members == {"clinician1", "clinician2", "nurse1"}
    # A case thread and an open referral request: the second run wrote nothing twice.
    assert Thread.objects.filter(community=case_review).count() == 2
    referral = Thread.objects.get(community=case_review, referral_specialty__isnull=False)
    assert referral.referral_answered_at is None and referral.referral_specialty.name == "Cardiology"
    case = Thread.objects.get(community=case_review, referral_specialty__isnull=True)
    assert case.patient_reference == "40817265"
    assert Post.objects.filter(thread=case, status="published").count() == 3
    from portal_social.community.models import PostFile

    (shared,) = PostFile.objects.filter(post__thread__community=staff)  # the protocol, shared once
    assert shared.filename == "anticoagulation-protocol-december.pdf" and shared.content_type == "application/pdf"
    assert shared.post.thread.announcement and shared.post.thread.pinned  # the protocol is announced
    for username in ("patient1", "caregiver1", "moderator1", "admin"):
        assert not access.visible(users[username], Community.objects.filter(kind="space")).exists(), username
    for username in ("clinician1", "clinician2", "nurse1"):
        assert rules.may_read(users[username], case_review), username


def test_a_space_is_opened_from_the_command_line_with_its_first_owner(people):
    import io

    from django.core.management import CommandError, call_command

    out = io.StringIO()
    owner = people["owner"]
    call_command(
        "portal_social_space",
        "--name",
        "Oncology tumour board",
        "--owner",
        owner.email,
        "--case-discussion",
        stdout=out,
    )
    space = Community.objects.get(slug="oncology-tumour-board")
    assert space.kind == "space" and space.phi_permitted and space.visibility == "private"
    assert rules.moderates(owner, space) and space_actions.is_owner(owner, space)
    assert AuditEvent.objects.filter(action="space.member_added", target_id=str(space.pk)).exists()
    for bad in (
        ["--name", "Ward", "--owner", people["patient"].email],  # not a clinician
        ["--name", "Ward", "--owner", "nobody@example.org"],
        ["--name", "Oncology tumour board", "--owner", owner.email],  # the name is taken
        ["--name", "Search", "--slug", "search", "--owner", owner.email],  # a reserved address
    ):
        with pytest.raises(CommandError):
            call_command("portal_social_space", *bad, stdout=io.StringIO())
    assert Community.objects.filter(kind="space").count() == 1


def test_threads_past_a_space_retention_are_purged_with_an_audit_of_counts_only(world):
    import datetime
    import io

    from django.core.management import call_command
    from django.utils import timezone

    from portal_social.community.actions import search_index
    from portal_social.core.search_models import SearchTerm

    space, thread = world["case_review"], world["thread"]
    fresh = actions.start_thread(author=world["people"]["owner"], community=space, title="Today", body="New case.")
    Thread.objects.filter(pk=thread.pk).update(last_post_at=timezone.now() - datetime.timedelta(days=400))
    assert search_index.reindex_thread(thread.pk) > 0
    out = io.StringIO()
    call_command("portal_social_space_retention", stdout=out)
    assert Thread.objects.filter(pk=thread.pk).exists()  # no retention period yet: kept
    space.retention_days = 365
    space.save()
    call_command("portal_social_space_retention", stdout=out)
    assert not Thread.objects.filter(pk=thread.pk).exists()
    assert not Post.objects.filter(thread_id=thread.pk).exists()
    assert Thread.objects.filter(pk=fresh.thread_id).exists()
    assert not SearchTerm.objects.filter(scope=search_index.SCOPE, object_id=thread.pk.hex).exists()
    purge = AuditEvent.objects.get(action="space.purge")
    assert purge.details["threads"] == 1 and purge.details["posts"] == 2
    assert "troponin" not in str(purge.details).lower()
    assert "threads deleted: 1; posts deleted: 2" in out.getvalue()
    call_command("portal_social_space_retention", stdout=io.StringIO())  # again: nothing more, no new record
    assert AuditEvent.objects.filter(action="space.purge").count() == 1
    world["patients"].retention_days = 1
    world["patients"].save()
    world["patients"].refresh_from_db()
    assert world["patients"].retention_days is None  # patient communities have no retention period here


def test_an_owner_sets_case_discussion_and_retention_and_nobody_else_can(world):
    space, people = world["case_review"], world["people"]
    url = reverse("portal_social_community:space_members", args=["case-review"])
    owner = client_for(people["owner"])
    page = owner.get(url).content.decode()
    assert 'name="retention_days"' in page and 'name="phi_permitted"' in page
    response = owner.post(url, {"do": "settings", "phi_permitted": "on", "retention_days": "90"})
    assert response.status_code == 302
    space.refresh_from_db()
    assert space.phi_permitted and space.retention_days == 90
    event = AuditEvent.objects.get(action="space.settings")
    assert event.details["after"] == {"phi_permitted": True, "retention_days": 90}
    for bad in ("0", "99999", "ninety", "-5"):
        response = owner.post(url, {"do": "settings", "phi_permitted": "on", "retention_days": bad})
        assert response.status_code == 400, bad
    # Switching case discussion off while the space has threads would stop recording their readings.
    response = owner.post(url, {"do": "settings", "retention_days": "90"})
    assert response.status_code == 400 and "stays on while the space has threads" in response.content.decode()
    space_actions.add_member(actor=people["owner"], space=space, user=people["colleague"], role="moderator")
    moderator = client_for(people["colleague"])
    assert 'name="retention_days"' not in moderator.get(url).content.decode()
    assert moderator.post(url, {"do": "settings", "phi_permitted": "on"}).status_code == 400
    assert client_for(people["nurse"]).post(url, {"do": "settings", "phi_permitted": "on"}).status_code == 404
    for who in OUTSIDERS:
        client = client_for(people[who])
        assert client.post(url, {"do": "settings", "phi_permitted": "on"}).status_code in (302, 403, 404), who
    space.refresh_from_db()
    assert space.phi_permitted and space.retention_days == 90  # nothing changed by a refused form
    assert AuditEvent.objects.filter(action="space.settings").count() == 1
    staff = world["staff"]  # no threads: an owner may switch case discussion on and off
    space_actions.set_space_settings(actor=people["owner"], space=staff, phi_permitted=True, retention_days=None)
    space_actions.set_space_settings(actor=people["owner"], space=staff, phi_permitted=False, retention_days=30)
    staff.refresh_from_db()
    assert not staff.phi_permitted and staff.retention_days == 30


def test_search_lists_a_case_thread_to_its_members_without_showing_its_posts(world):
    from portal_social.community.actions import search_index

    search_index.reindex_thread(world["thread"].pk)
    response = client_for(world["people"]["nurse"]).get(reverse("portal_social_community:search"), {"q": "angiogram"})
    body = response.content.decode()
    assert "Rising troponin after PCI" in body  # the title: screened free of patient details
    assert "Would you repeat the angiogram" not in body and "40817265" not in body
    response = client_for(world["people"]["clinician_outside"]).get(
        reverse("portal_social_community:search"), {"q": "angiogram"}
    )
    assert "Rising troponin" not in response.content.decode()


def test_a_link_to_a_case_post_or_thread_cannot_leave_its_space(world):
    owner = world["people"]["owner"]
    staff_thread = actions.start_thread(author=owner, community=world["staff"], title="Rota", body="Friday?").thread
    case_post, case_thread = world["opening"], world["thread"]
    pasted = [
        f"> Case question\n\n[Link to the quoted post](http://testserver/community/p/{case_post.pk}/)",
        f"See http://testserver/community/case-review/t/{case_thread.pk}/ for details",
        f"Ref {case_post.pk.hex}",
    ]
    for body in pasted:
        with pytest.raises(actions.CommunityDenied):
            actions.reply(author=owner, thread=staff_thread, body=body)
        with pytest.raises(actions.CommunityDenied):
            actions.start_thread(author=owner, community=world["staff"], title="Rota", body=body)
    own = Post.objects.get(thread=staff_thread, is_opening=True)
    with pytest.raises(actions.CommunityDenied):
        actions.edit_post(author=owner, post=own, body=pasted[0])
    own.refresh_from_db()
    assert own.body_source == "Friday?"
    assert AuditEvent.objects.filter(action="space.containment").count() == 7
    # Within the case space itself, links to its own posts are fine; ordinary ids are ignored.
    actions.reply(author=owner, thread=case_thread, body=pasted[0])
    actions.reply(author=owner, thread=staff_thread, body=f"Ticket {staff_thread.pk}, unrelated id 1234")


def test_leaving_through_the_community_route_keeps_an_owner_and_closes_sockets(world, monkeypatch):
    people = world["people"]
    leave = reverse("portal_social_community:leave", args=["case-review"])
    response = client_for(people["owner"]).post(leave)
    assert response.status_code in (302, 403)
    assert rules.may_read(people["owner"], Community.objects.get(pk=world["case_review"].pk))
    sent = []
    monkeypatch.setattr(realtime, "recheck_access_after_commit", lambda pks: sent.extend(pks))
    client_for(people["nurse"]).post(leave)
    assert not Membership.objects.filter(community=world["case_review"], user=people["nurse"], status="active")
    assert sent == [people["nurse"].pk]


def test_a_moderator_cannot_demote_or_remove_an_owner_and_case_discussion_stays_on_with_threads(world):
    people, space = world["people"], world["case_review"]
    space_actions.add_member(actor=people["owner"], space=space, user=people["colleague"], role="moderator")
    second = people["clinician_outside"]
    space_actions.add_member(actor=people["owner"], space=space, user=second, role="owner")
    with pytest.raises(actions.CommunityDenied):
        space_actions.add_member(actor=people["colleague"], space=space, user=second, role="member")
    with pytest.raises(actions.CommunityDenied):
        space_actions.remove_member(actor=people["colleague"], space=space, user=second)
    assert space_actions.is_owner(second, space)
    with pytest.raises(actions.CommunityDenied):
        space_actions.set_space_settings(actor=people["owner"], space=space, phi_permitted=False, retention_days=None)
    space.refresh_from_db()
    assert space.phi_permitted


def test_follow_notices_of_a_space_reach_its_members_only(world):
    from django.contrib.auth import get_user_model

    from portal_social.community.actions.following import readers

    people = world["people"]
    reached = set(get_user_model().objects.filter(readers(world["case_review"])).values_list("pk", flat=True))
    assert reached == {people[who].pk for who in MEMBERS}


def test_the_wagtail_admin_answers_as_if_a_space_did_not_exist(world):
    """Community moderators set up patient communities in the admin; a space is none of their business."""
    space, community = world["case_review"], world["patients"]
    client = client_for(world["people"]["community_moderator"])
    base = "/cms/snippets/portal_social/community/"
    listing = client.get(base)
    assert listing.status_code == 200
    assert "Heart health" in listing.content.decode() and "Cardiology case review" not in listing.content.decode()
    chooser = client.get("/cms/snippets/choose/portal_social/community/")
    assert chooser.status_code == 200
    assert "Heart health" in chooser.content.decode() and "Cardiology case review" not in chooser.content.decode()
    for view in ("edit", "copy", "delete", "inspect", "history", "usage"):
        assert client.get(f"{base}{view}/{community.pk}/").status_code != 404 or view == "inspect", view
        assert client.get(f"{base}{view}/{space.pk}/").status_code == 404, view
    assert client.post(f"{base}delete/{space.pk}/").status_code == 404
    assert client.get(f"/cms/snippets/choose/portal_social/community/chosen/{space.pk}/").status_code == 404
    assert Community.objects.filter(pk=space.pk).exists()


# --------------------------------------------------------------------------- referral requests


@pytest.fixture
def cardiology(db):
    from portal_social.profiles.models import Specialty

    return Specialty.objects.get_or_create(name="Cardiology", defaults={"slug": "cardiology"})[0]


def _referral(world, cardiology, urgency="soon"):
    return actions.start_thread(
        author=world["people"]["nurse"],
        community=world["case_review"],
        title="Ablation opinion",
        body=f"Could an electrophysiologist see {MRN}?",
        confirm_phi=True,
        patient_reference="40817265",
        referral={"specialty": cardiology, "urgency": urgency},
    ).thread


def test_a_referral_request_is_asked_from_its_form_and_listed_as_open(world, cardiology):
    nurse = client_for(world["people"]["nurse"])
    url = reverse("portal_social_community:new_referral", args=["case-review"])
    page = nurse.get(url).content.decode()
    assert (
        'name="referral_specialty"' in page and 'name="referral_urgency"' in page and 'name="patient_reference"' in page
    )
    token = page.split('name="submission" value="')[1].split('"')[0]
    data = {
        "referral_specialty": str(cardiology.pk),
        "referral_urgency": "urgent",
        "title": "Chest pain after stent",
        "body": "Could cardiology review today? Troponin flat, pain on exertion.",
        "submission": token,
    }
    for broken, error in (
        ({"referral_specialty": "999999"}, "from the list"),
        ({"referral_urgency": "now!"}, "from the list"),
    ):
        response = nurse.post(url, {**data, **broken})
        assert response.status_code == 200 and error in response.content.decode()
    response = nurse.post(url, data)
    assert response.status_code == 302
    nurse.post(url, data)  # the same form twice: one request
    # Titles are encrypted: read them back rather than filter on them.
    threads = [t for t in Thread.objects.filter(community=world["case_review"]) if t.title == "Chest pain after stent"]
    assert len(threads) == 1
    thread = threads[0]
    assert thread.is_referral and thread.referral_urgency == "urgent" and thread.referral_assignee_id is None
    listing = nurse.get(reverse("portal_social_community:space_referrals", args=["case-review"])).content.decode()
    assert "Chest pain after stent" in listing and "Urgent" in listing
    page = nurse.get(reverse("portal_social_community:thread", args=["case-review", thread.pk])).content.decode()
    assert "Referral request" in page and "Cardiology" in page


def test_take_answer_and_reopen_a_referral(world, cardiology):
    people = world["people"]
    thread = _referral(world, cardiology)
    url = reverse("portal_social_community:referral", args=["case-review", thread.pk])
    colleague = client_for(people["colleague"])
    assert colleague.post(url, {"do": "take"}).status_code == 302
    thread.refresh_from_db()
    assert thread.referral_assignee_id == people["colleague"].pk
    mine = colleague.get(reverse("portal_social_community:space_referrals", args=["case-review"]) + "?show=mine")
    assert "Ablation opinion" in mine.content.decode()
    # Someone else may not take it from the colleague, nor mark it answered.
    outsider_member = people["owner"]
    space_actions.add_member(actor=outsider_member, space=world["case_review"], user=people["clinician_outside"])
    third = client_for(people["clinician_outside"])
    third.post(url, {"do": "release"})
    third.post(url, {"do": "answered"})
    thread.refresh_from_db()
    assert thread.referral_assignee_id == people["colleague"].pk and thread.referral_answered_at is None
    assert colleague.post(url, {"do": "answered"}).status_code == 302
    thread.refresh_from_db()
    assert thread.referral_answered_at is not None
    answered = colleague.get(
        reverse("portal_social_community:space_referrals", args=["case-review"]) + "?show=answered"
    )
    assert "Ablation opinion" in answered.content.decode()
    assert client_for(people["nurse"]).post(url, {"do": "reopen"}).status_code == 302  # the author
    thread.refresh_from_db()
    assert thread.referral_answered_at is None
    events = list(AuditEvent.objects.filter(action="space.referral").values_list("details", flat=True))
    assert [e["what"] for e in events] == ["assign", "answered", "reopened"]


def test_referral_routes_answer_404_outside_the_space(world, cardiology):
    thread = _referral(world, cardiology)
    routes = [
        reverse("portal_social_community:space_referrals", args=["case-review"]),
        reverse("portal_social_community:new_referral", args=["case-review"]),
    ]
    for who in OUTSIDERS:
        client = client_for(world["people"][who])
        for route in routes:
            assert client.get(route).status_code == 404, (who, route)
        post = client.post(reverse("portal_social_community:referral", args=["case-review", thread.pk]), {"do": "take"})
        assert post.status_code in (302, 404) and post.get("Location", "").find("case-review") == -1, who
    thread.refresh_from_db()
    assert thread.referral_assignee_id is None
    with pytest.raises(actions.CommunityDenied):
        actions.start_thread(
            author=world["people"]["patient"],
            community=world["patients"],
            title="Referral",
            body="Please",
            referral={"specialty": cardiology, "urgency": "soon"},
        )
