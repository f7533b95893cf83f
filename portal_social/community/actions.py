"""Communities, write side: every change goes through a function here (house rule 1).

Each action checks permission (``CommunityDenied``), validates
(``ValidationError`` by field), changes data in one transaction, writes its
audit event, and defers notifications and live updates until it commits.

Posting (:func:`start_thread`, :func:`reply`) screens the title and the
post for ``community_post`` (a clinician's or staff member's post: the
stricter ``staff_public_reply`` rules) before anything is saved:

* language the community does not allow is refused;
* personal details are refused with ``PhiFound`` (the kinds and where they
  are, for the author to edit) unless the author chose to post anyway: then
  the post is held for a moderator, who can hide the details and publish;
* crisis language holds the post as **urgent** (first in the queue, every
  moderator told at once); the author is shown crisis resources and what
  happens next;
* a new member's first posts (``PORTAL_SOCIAL_COMMUNITY_HELD_FIRST_POSTS``),
  a community that reviews every post, and words moderators read first hold
  the post too.

A held post is a ``community_post`` item of the shared moderation queue;
:func:`approve_post`, :func:`reject_post` and :func:`redact_post` decide it
and close the item, from the queue or anywhere else.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from portal_social.community import events, notifications  # noqa: F401  (registers the notifications)
from portal_social.community import moderation as _queue_kind  # noqa: F401  (registers the queue kind)
from portal_social.community import rules as _rules  # noqa: F401  (registers the access rules)
from portal_social.community.models import (
    HANDLE_PATTERN,
    TITLE_MAX_LENGTH,
    Community,
    CommunityProfile,
    Membership,
    Post,
    Thread,
)
from portal_social.conf import app_settings
from portal_social.core import (
    access,
    locking,
    moderation,
    phi,
    public_reply,
    ratelimit,
    realtime,
    roles,
    screening,
    text,
    user_text,
)
from portal_social.core.errors import Denied, refusal

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

KIND = _queue_kind.KIND
#: Readers of a thread follow its stream: a new published post is announced by id.
THREAD_STREAM = "community.thread"
realtime.register_stream(THREAD_STREAM, Thread, action="view")
REASON_MAX_LENGTH = 300


class CommunityDenied(Denied):
    default_message = _lazy("You cannot do that in this community.")
    code = "community_denied"


class PhiFound(ValidationError):
    """The text holds personal details: the author may edit it, or (``may_post_anyway``) post it for a moderator.

    Titles, and posts by staff and clinicians (the stricter rules of a public
    staff reply), may never carry them: ``may_post_anyway`` is False.
    """

    def __init__(
        self, field: str, result: screening.Result, *, may_post_anyway: bool = True, kinds: list[str] | None = None
    ):
        self.field = field
        self.result = result
        self.may_post_anyway = may_post_anyway
        found = [*result.of_kind(screening.policy.PHI), *result.of_kind(screening.policy.DISCLOSURE)]
        kinds = sorted({f.detail for f in found} | set(kinds or ()))
        labels = ", ".join(str(phi.LABELS.get(kind) or public_reply.LABELS.get(kind, kind)) for kind in kinds)
        if may_post_anyway:
            message = _(
                "This looks like it includes personal details (%(kinds)s). Posts are public to the community: "
                "edit them out, or post anyway and a moderator will read it before it appears."
            )
        else:
            message = _("This looks like it includes personal details (%(kinds)s). Remove them to post.")
        super().__init__({field: [ValidationError(message % {"kinds": labels}, code="phi")]})


def _signed_in(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


# --------------------------------------------------------------------------- identity and membership


def set_handle(*, user: AbstractBaseUser, handle: str, request: HttpRequest | None = None) -> CommunityProfile:
    """Choose (or change) the name ``user`` posts under. Unique whatever its case; never an email or a number."""
    if not _signed_in(user) or not access.holds(user, "portal_social.participate_community"):
        raise CommunityDenied()
    handle = text.clean_plain(handle, field="handle", required=True, max_length=30)
    if not re.fullmatch(HANDLE_PATTERN, handle):
        raise ValidationError(
            {
                "handle": [
                    _("Use 3 to 30 letters, digits, dots, dashes or underscores, starting with a letter or digit.")
                ]
            }
        )
    if any(f.kind != "name" for f in phi.scan(handle)):
        raise ValidationError({"handle": [_("A community name cannot be an email address, a number or an id.")]})
    taken = CommunityProfile.objects.filter(handle__iexact=handle).exclude(user=user).exists()
    if taken:
        raise refusal(_("Someone already uses this community name. Choose another."), "taken")
    try:
        with transaction.atomic():
            profile, _created = CommunityProfile.objects.update_or_create(user=user, defaults={"handle": handle})
    except IntegrityError:
        raise refusal(_("Someone already uses this community name. Choose another."), "taken") from None
    return profile


def join(*, user: AbstractBaseUser, community: Community, request: HttpRequest | None = None) -> Membership:
    """Join ``community`` (a private one: ask to join; a moderator approves)."""
    if not _signed_in(user) or not access.can(user, "join", community):
        raise CommunityDenied()
    status = (
        Membership.Status.REQUESTED
        if community.visibility == Community.Visibility.PRIVATE
        else Membership.Status.ACTIVE
    )
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            community=community, user=user, defaults={"status": status}
        )
        if not created:
            if membership.status == Membership.Status.ACTIVE:
                return membership
            membership.status = status
            membership.joined_at = timezone.now()
            membership.save(update_fields=["status", "joined_at"])
        events.joined(actor=user, membership=membership, request=request)
    return membership


def leave(*, user: AbstractBaseUser, community: Community, request: HttpRequest | None = None) -> None:
    if not _signed_in(user):
        raise CommunityDenied()
    with transaction.atomic():
        membership = locking.locked(Membership.objects.filter(community=community, user=user)).first()
        if membership is None or membership.status == Membership.Status.LEFT:
            return
        membership.status = Membership.Status.LEFT
        membership.save(update_fields=["status"])
        events.left(actor=user, membership=membership, request=request)


# --------------------------------------------------------------------------- posting


def _destination(author) -> str:
    """Staff and clinicians write under the stricter rules of a public staff reply."""
    staff_roles = set(roles.GROUP_NAMES) - {roles.PATIENT, roles.CAREGIVER}
    if author.groups.filter(name__in=[roles.GROUP_NAMES[r] for r in staff_roles]).exists():
        return screening.policy.STAFF_PUBLIC_REPLY
    return screening.policy.COMMUNITY_POST


def _screen(author, field: str, value: str, *, confirm_phi: bool, may_post_anyway: bool = True) -> screening.Result:
    destination = _destination(author)
    result = screening.screen(value, destination=destination, author=author)
    if result.blocked:
        if result.of_kind(screening.policy.PHI) or result.of_kind(screening.policy.DISCLOSURE):
            raise PhiFound(field, result, may_post_anyway=False)  # staff may not post personal details at all
        raise ValidationError(
            {field: [ValidationError(_("This uses language that is not allowed here."), code="blocked")]}
        )
    if result.of_kind(screening.policy.PHI) and not (confirm_phi and may_post_anyway):
        raise PhiFound(field, result, may_post_anyway=may_post_anyway)
    if destination == screening.policy.STAFF_PUBLIC_REPLY:
        # A clinician writing to patients must not describe a particular patient either.
        about_patient = public_reply.scan_biography(value)
        if about_patient:
            raise PhiFound(field, result, may_post_anyway=False, kinds=[f.kind for f in about_patient])
    return result


def _hold_reasons(results: list[screening.Result], author, community: Community) -> list[dict]:
    reasons: list[dict] = []
    kinds = sorted({f.detail for r in results for f in r.of_kind(screening.policy.PHI)})
    if kinds:
        reasons.append({"code": "phi", "kinds": kinds})
    if any(r.urgent for r in results):
        reasons.append({"code": "crisis"})
    held_words = (screening.policy.OUTCOME_HOLD, screening.policy.OUTCOME_BLOCK)
    if any(f.outcome in held_words for r in results for f in r.of_kind(screening.policy.WATCHED_WORD)):
        reasons.append({"code": "language"})
    if any(r.of_kind(screening.policy.TRUST) for r in results):
        reasons.append({"code": "new_account"})
    limit = app_settings.COMMUNITY_HELD_FIRST_POSTS
    if limit and not any(reason["code"] == "new_account" for reason in reasons):
        published = Post.objects.filter(author=author, status=Post.Status.PUBLISHED).count()
        if published < limit:
            reasons.append({"code": "new_member"})
    if community.review_every_post and not reasons:
        reasons.append({"code": "review_every_post"})
    return reasons


def _queue_reasons(hold_reasons: list[dict]) -> list[moderation.Reason]:
    return [
        moderation.Reason(r["code"], details={"kinds": r["kinds"]}) if r.get("kinds") else moderation.Reason(r["code"])
        for r in hold_reasons
    ]


def _render(value: str, field: str) -> str:
    try:
        return text.render(value)
    except text.TextTooLong as exc:
        raise ValidationError({field: exc.messages}) from None


def _create_post(
    *,
    author,
    thread: Thread,
    body: str,
    results: list[screening.Result],
    body_result: screening.Result,
    is_opening: bool,
    submission: Any,
    request,
) -> Post:
    hold = _hold_reasons(results, author, thread.community)
    status = Post.Status.HELD if hold else Post.Status.PUBLISHED
    post = Post.objects.create(
        thread=thread,
        author=author,
        is_opening=is_opening,
        status=status,
        hold_reasons=hold,
        marks=[f.code for f in body_result.findings if f.outcome == screening.policy.OUTCOME_MARK],
        body_source=body,
        body_html=_render(body_result.publishable_text(), "body"),
        urgent=any(r.urgent for r in results),
        submission=submission,
    )
    events.post_written(
        actor=author,
        post=post,
        request=request,
        details={"status": status, "reasons": [r["code"] for r in hold], "opening": is_opening},
    )
    if hold:
        moderation.enqueue(post, kind=KIND, reasons=_queue_reasons(hold), actor=author, request=request)
    else:
        _published(post)
    return post


def _published(post: Post) -> None:
    """A post became visible: the thread's counters and, after commit, a live update to its readers."""
    thread = post.thread
    now = timezone.now()
    if post.is_opening:
        Thread.objects.filter(pk=thread.pk).update(visible=True, last_post_at=now)
        thread.visible = True
    else:
        Thread.objects.filter(pk=thread.pk).update(reply_count=F("reply_count") + 1, last_post_at=now)
    realtime.publish_to_stream(THREAD_STREAM, thread, {"kind": "post", "post": str(post.pk)})


def _clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise ValidationError({"body": [_("Enter your post as text.")]})
    source = text.normalise(body).strip()
    if not source:
        raise ValidationError({"body": [_("Write something to post.")]})
    user_text.validate(Post, {"body_source": source})
    return source


def _existing_submission(author, submission) -> Post | None:
    if submission is None:
        return None
    return Post.objects.filter(author=author, submission=submission).select_related("thread").first()


def _once(author, submission, write) -> Post:
    """``write()`` in one transaction; a concurrent twin of this submission that won returns its post instead."""
    try:
        with transaction.atomic():
            return write()
    except IntegrityError:
        again = _existing_submission(author, submission)
        if again is None:
            raise
        return again


def start_thread(
    *,
    author: AbstractBaseUser,
    community: Community,
    title: str,
    body: str,
    confirm_phi: bool = False,
    submission=None,
    request: HttpRequest | None = None,
) -> Post:
    """Open a thread in ``community``; returns its opening post (published, or held for a moderator).

    Preconditions: ``author`` may post there (an active member with a role
    that takes part in communities) — else ``CommunityDenied``; a title of
    1..150 characters and a post within ``core.text``'s limit — else
    ``ValidationError``; screening as the module describes. The same
    ``submission`` token twice returns the first post.
    """
    if not _signed_in(author) or not access.can(author, "post", community):
        raise CommunityDenied()
    title = text.clean_plain(
        title, field="title", required=True, max_length=TITLE_MAX_LENGTH, empty_message=_("Give your thread a title.")
    )
    source = _clean_body(body)
    again = _existing_submission(author, submission)
    if again is not None:
        return again
    # Titles are listed wherever the community is: personal details never go in one, even held.
    title_result = _screen(author, "title", title, confirm_phi=False, may_post_anyway=False)
    body_result = _screen(author, "body", source, confirm_phi=confirm_phi)
    ratelimit.check("community_post", request=request, user=author)

    def write() -> Post:
        thread = Thread.objects.create(community=community, author=author, title=title)
        return _create_post(
            author=author,
            thread=thread,
            body=source,
            results=[title_result, body_result],
            body_result=body_result,
            is_opening=True,
            submission=submission,
            request=request,
        )

    return _once(author, submission, write)


def reply(
    *,
    author: AbstractBaseUser,
    thread: Thread,
    body: str,
    confirm_phi: bool = False,
    submission=None,
    request: HttpRequest | None = None,
) -> Post:
    """Reply in ``thread``; returns the post (published, or held for a moderator).

    Preconditions: ``author`` may post in the thread's community and the
    thread is visible and not locked — else ``CommunityDenied``; the post
    within ``core.text``'s limit — else ``ValidationError``; screening as
    the module describes. The same ``submission`` token twice returns the
    first post.
    """
    if not _signed_in(author) or not access.can(author, "reply", thread):
        if thread.locked and access.can(author, "post", thread.community):
            raise CommunityDenied(_("This thread is locked: it takes no new replies."))
        raise CommunityDenied()
    source = _clean_body(body)
    again = _existing_submission(author, submission)
    if again is not None:
        return again
    body_result = _screen(author, "body", source, confirm_phi=confirm_phi)
    ratelimit.check("community_post", request=request, user=author)

    def write() -> Post:
        locked = locking.locked(Thread.objects.select_related("community")).get(pk=thread.pk)
        if locked.locked:
            raise CommunityDenied(_("This thread is locked: it takes no new replies."))
        return _create_post(
            author=author,
            thread=locked,
            body=source,
            results=[body_result],
            body_result=body_result,
            is_opening=False,
            submission=submission,
            request=request,
        )

    return _once(author, submission, write)


# --------------------------------------------------------------------------- moderators' decisions


def _require_moderator(moderator, post: Post) -> None:
    if not _signed_in(moderator) or not access.can(moderator, "moderate", post):
        raise CommunityDenied(_("Only community moderators can do that."))


def _locked_post(post: Post) -> Post:
    moderation.lock_pending(post)  # the queue's lock order: the item, then the content
    return locking.locked(Post.objects.select_related("thread", "thread__community", "author")).get(pk=post.pk)


def _decided(locked: Post, moderator, status: str, **fields) -> dict:
    locked.status = status
    locked.moderated_by = moderator
    locked.moderated_at = timezone.now()
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.save(update_fields=["status", "moderated_by", "moderated_at", *fields])
    item_status = "approved" if status == Post.Status.PUBLISHED else "rejected"
    item = moderation.close(locked, status=item_status, moderator=moderator)
    return {"item": str(item.pk)} if item is not None else {}


def _sync(target: Post, source: Post) -> None:
    for name in ("status", "body_html", "redactions", "moderated_by_id", "moderated_at", "rejection_reason"):
        setattr(target, name, getattr(source, name))


def approve_post(*, moderator: AbstractBaseUser, post: Post, request: HttpRequest | None = None) -> Post:
    """Publish a held post as written. The author is told; readers of the thread see it live."""
    _require_moderator(moderator, post)
    with transaction.atomic():
        locked = _locked_post(post)
        if locked.status != Post.Status.HELD:
            raise refusal(_("This post is not waiting for a decision."), "decided")
        item = _decided(locked, moderator, Post.Status.PUBLISHED)
        _published(locked)
        events.post_approved(actor=moderator, post=locked, request=request, details=item)
        from portal_social.core import notify

        notify.notify(locked.author, "community.post_published")
    _sync(post, locked)
    return post


def reject_post(*, moderator: AbstractBaseUser, post: Post, reason: str, request: HttpRequest | None = None) -> Post:
    """Do not publish a held post; ``reason`` (1..300 characters) is kept for the record."""
    _require_moderator(moderator, post)
    reason = text.clean_plain(
        reason,
        field="reason",
        required=True,
        max_length=REASON_MAX_LENGTH,
        empty_message=_("Give a reason for not publishing this post."),
    )
    with transaction.atomic():
        locked = _locked_post(post)
        if locked.status != Post.Status.HELD:
            raise refusal(_("This post is not waiting for a decision."), "decided")
        item = _decided(locked, moderator, Post.Status.REJECTED, rejection_reason=reason)
        events.post_rejected(actor=moderator, post=locked, request=request, details=item)
        from portal_social.core import notify

        notify.notify(locked.author, "community.post_rejected")
    _sync(post, locked)
    return post


def redact_post(
    *,
    moderator: AbstractBaseUser,
    post: Post,
    spans: list[tuple[int, int]] | None = None,
    use_findings: bool = True,
    request: HttpRequest | None = None,
) -> Post:
    """Hide chosen parts of a held post (or everything the PHI scanner finds), then publish it."""
    _require_moderator(moderator, post)
    with transaction.atomic():
        locked = _locked_post(post)
        if locked.status != Post.Status.HELD:
            raise refusal(_("This post is not waiting for a decision."), "decided")
        source = locked.body_source
        findings = phi.scan(source)
        chosen = [screening.Span(f.start, f.end, f.kind) for f in findings] if use_findings else []
        for start, end in spans or ():
            if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(source)):
                raise ValidationError({"spans": [_("A selected part is outside the post.")]})
            kind = next((f.kind for f in findings if f.start == start and f.end == end), "details")
            chosen.append(screening.Span(start, end, kind))
        if not chosen:
            raise ValidationError({"spans": [_("Choose at least one part of the post to hide.")]})
        merged = screening.merge_spans(chosen)
        redacted = screening.apply_redactions(source, merged, replace=lambda span: phi.marker(span.label))
        item = _decided(
            locked,
            moderator,
            Post.Status.PUBLISHED,
            redactions=[{"start": s.start, "end": s.end, "kind": s.label} for s in merged],
            body_html=text.render(redacted),
        )
        _published(locked)
        events.post_redacted(
            actor=moderator,
            post=locked,
            request=request,
            details={"spans": len(merged), "kinds": sorted({s.label for s in merged}), **item},
        )
        from portal_social.core import notify

        notify.notify(locked.author, "community.post_published_redacted")
    _sync(post, locked)
    return post
