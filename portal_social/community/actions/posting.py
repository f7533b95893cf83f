"""Starting threads and replying: screened before anything is saved, held for a moderator when needed."""

from __future__ import annotations

import dataclasses
import uuid
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from portal_social.community import events
from portal_social.community.models import (
    TITLE_MAX_LENGTH,
    Community,
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
    roles,
    screening,
    submissions,
    text,
    user_text,
)
from portal_social.core.files import remove as remove_stored_file

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

from portal_social.community.actions import mentions, space_files, spaces
from portal_social.community.actions._common import (
    KIND,
    CommunityDenied,
    _published,
    _signed_in,
    posting_refusal,
)
from portal_social.community.actions.caregivers import writes_as_caregiver


class PhiFound(ValidationError):
    """The text holds personal details: the author may edit it, or (``may_post_anyway``) post it for a moderator.

    Titles, and posts by staff and clinicians (the stricter rules of a public
    staff reply), may never carry them: ``may_post_anyway`` is False.
    """

    def __init__(
        self,
        field: str,
        result: screening.Result,
        *,
        may_post_anyway: bool = True,
        kinds: list[str] | None = None,
        in_space: bool = False,
    ):
        self.field = field
        self.result = result
        self.may_post_anyway = may_post_anyway
        found = [*result.of_kind(screening.policy.PHI), *result.of_kind(screening.policy.DISCLOSURE)]
        kinds = sorted({f.detail for f in found} | set(kinds or ()))
        labels = ", ".join(str(phi.LABELS.get(kind) or public_reply.LABELS.get(kind, kind)) for kind in kinds)
        if in_space and may_post_anyway:
            message = _(
                "This includes patient details (%(kinds)s). This space permits case discussion: check that "
                "only what your colleagues need is here, then post it as written."
            )
        elif in_space:
            message = _(
                "This looks like it includes patient details (%(kinds)s). This space is not for case "
                "discussion: remove them to post."
            )
        elif may_post_anyway:
            message = _(
                "This looks like it includes personal details (%(kinds)s). Posts are public to the community: "
                "edit them out, or post anyway and a moderator will read it before it appears."
            )
        else:
            message = _("This looks like it includes personal details (%(kinds)s). Remove them to post.")
        super().__init__({field: [ValidationError(message % {"kinds": labels}, code="phi")]})


def _destination(author, community: Community) -> str:
    """Staff and clinicians write under the stricter rules of a public staff reply; in a clinician space,
    under the space's rules."""
    if community.kind == Community.Kind.SPACE:
        return screening.policy.CLINICIAN_SPACE
    staff_roles = set(roles.GROUP_NAMES) - {roles.PATIENT, roles.CAREGIVER}
    if author.groups.filter(name__in=[roles.GROUP_NAMES[r] for r in staff_roles]).exists():
        return screening.policy.STAFF_PUBLIC_REPLY
    return screening.policy.COMMUNITY_POST


def _screen(
    author,
    community: Community,
    field: str,
    value: str,
    *,
    confirm_phi: bool,
    may_post_anyway: bool = True,
    mentioned: list[tuple[int, int]] | None = None,
) -> screening.Result:
    """Screen ``value`` for ``field`` of a post in ``community`` under the rules of its destination."""
    destination = _destination(author, community)
    phi_permitted = community.phi_permitted
    # Members' @names (``mentions.validate``) are screened as blanks: a community name is not a social handle.
    screened = mentions.blank(value, mentioned or [])
    result = screening.screen(screened, destination=destination, author=author)
    if screened is not value:
        result = dataclasses.replace(result, text=value)
    if result.blocked:
        if result.of_kind(screening.policy.PHI) or result.of_kind(screening.policy.DISCLOSURE):
            raise PhiFound(field, result, may_post_anyway=False)  # staff may not post personal details at all
        raise ValidationError(
            {field: [ValidationError(_("This uses language that is not allowed here."), code="blocked")]}
        )
    if destination == screening.policy.CLINICIAN_SPACE:
        # A case-discussion space: the author is warned, with the spans, and may post as written.
        # Any other space: patient details stay out. Neither holds anything for a moderator.
        if result.of_kind(screening.policy.PHI) and not (confirm_phi and phi_permitted and may_post_anyway):
            raise PhiFound(field, result, may_post_anyway=phi_permitted and may_post_anyway, in_space=True)
        return result
    if result.of_kind(screening.policy.PHI) and not (confirm_phi and may_post_anyway):
        raise PhiFound(field, result, may_post_anyway=may_post_anyway)
    if destination == screening.policy.STAFF_PUBLIC_REPLY:
        # A clinician writing to patients must not describe a particular patient either.
        about_patient = public_reply.scan_biography(screened)
        if about_patient:
            raise PhiFound(field, result, may_post_anyway=False, kinds=[f.kind for f in about_patient])
    return result


def _hold_reasons(results: list[screening.Result], author, community: Community) -> list[dict]:
    reasons: list[dict] = []
    if community.kind == Community.Kind.SPACE:
        return reasons  # verified colleagues, moderated by the space's own owners: nothing waits in a queue
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


def _screen_file_names(author, community: Community, checked, *, confirm_phi: bool) -> None:
    """Shared files' names are screened like the post (a space's rules): a name that carries patient
    details warns in a case-discussion space and is refused in any other."""
    if checked:
        names = "\n".join(file.filename for file in checked)
        _screen(author, community, space_files.FIELD, names, confirm_phi=confirm_phi)


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
    quoted_post: Post | None = None,
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
        quoted_post=quoted_post,
        by_caregiver=writes_as_caregiver(author),  # yes or no: never whose caregiver
    )
    events.post_written(
        actor=author,
        post=post,
        request=request,
        details={"status": status, "reasons": [r["code"] for r in hold], "opening": is_opening},
    )
    if hold:
        moderation.enqueue(post, kind=KIND, reasons=moderation.from_hold_codes(hold), actor=author, request=request)
    else:
        _published(post)
    return post


def _quotable(author, thread: Thread, quoted, *, request=None) -> Post | None:
    """The published post ``quoted`` (a post or an id) of ``thread``'s community, if ``author`` can see it.

    A post of a case-discussion space quoted anywhere else is refused (``CommunityDenied``) and recorded.
    """
    if quoted is None or quoted == "":
        return None
    try:
        quoted_id = quoted.pk if isinstance(quoted, Post) else uuid.UUID(str(quoted))
    except (ValueError, AttributeError):
        return None
    seen = access.visible(author, Post.objects.filter(pk=quoted_id, status=Post.Status.PUBLISHED, thread__visible=True))
    found = seen.select_related("thread__community").first()
    if found is None:
        return None
    spaces.contain(actor=author, quoted=found, into=thread.community, request=request)
    return found if found.thread.community_id == thread.community_id else None


def _clean_body(body: Any) -> str:
    if not isinstance(body, str):
        raise ValidationError({"body": [_("Enter your post as text.")]})
    source = text.stripped(text.normalise(body))
    if not source:
        raise ValidationError({"body": [_("Write something to post.")]})
    user_text.validate(Post, {"body_source": source})
    return source


def _existing_submission(author, submission) -> Post | None:
    if submission is None:
        return None
    return Post.objects.filter(author=author, submission=submission).select_related("thread").first()


def _once(author, submission, write, stored: list[str]) -> Post:
    """``write()`` in one transaction; a concurrent twin of this submission that won returns its post instead.
    Files stored by a write that did not commit (``stored``) are removed."""
    return submissions.once(
        write,
        lambda: _existing_submission(author, submission),
        cleanup=submissions.remove_all(stored, remove_stored_file),
    )


def start_thread(
    *,
    author: AbstractBaseUser,
    community: Community,
    title: str,
    body: str,
    confirm_phi: bool = False,
    submission=None,
    patient_reference: str = "",
    referral: dict | None = None,
    announcement: bool = False,
    files=(),
    request: HttpRequest | None = None,
) -> Post:
    """Open a thread in ``community``; returns its opening post (published, or held for a moderator).

    ``files`` (uploads) are shared with the post, in a clinician space only (``space_files``): all
    accepted or none, before anything is saved.

    ``patient_reference`` (an MRN) is kept, encrypted, only in a case-discussion space. ``referral``
    (``{"specialty": Specialty, "urgency": "routine"|"soon"|"urgent"}``) makes the thread a referral
    request, in a clinician space only. ``announcement`` makes it an announcement (a space's owners and
    moderators only): pinned, and every member is told.

    Preconditions: ``author`` may post there (an active member with a role
    that takes part in communities) — else ``CommunityDenied``; a title of
    1..150 characters and a post within ``core.text``'s limit — else
    ``ValidationError``; screening as the module describes. The same
    ``submission`` token twice returns the first post.
    """
    if not _signed_in(author) or not access.can(author, "post", community):
        raise CommunityDenied()
    posting_refusal(author, community)
    fields = spaces.referral_fields(community, referral)
    fields.update(spaces.announcement_fields(author, community, bool(announcement), referral))
    title = text.clean_plain(
        title, field="title", required=True, max_length=TITLE_MAX_LENGTH, empty_message=_("Give your thread a title.")
    )
    source = _clean_body(body)
    again = _existing_submission(author, submission)
    if again is not None:
        if again.thread.community_id == community.pk and again.thread.title == title and again.body_source == source:
            return again
        submission = None  # submissions.resent_elsewhere
    mentioned = mentions.validate(source)  # "No member is called @xyz", before anything is saved
    spaces.contain_text(actor=author, text=f"{title}\n{source}", into=community, request=request)
    # Titles are listed wherever the community is: personal details never go in one, even held.
    title_result = _screen(author, community, "title", title, confirm_phi=False, may_post_anyway=False)
    body_result = _screen(author, community, "body", source, confirm_phi=confirm_phi, mentioned=mentioned)
    checked = space_files.check(community, files)
    _screen_file_names(author, community, checked, confirm_phi=confirm_phi)
    ratelimit.check("community_post", request=request, user=author)
    stored: list[str] = []

    def write() -> Post:
        reference = str(patient_reference or "").strip()[:40] if community.phi_permitted else ""
        thread = Thread.objects.create(
            community=community, author=author, title=title, patient_reference=reference, **fields
        )
        if thread.announcement:
            spaces.ANNOUNCED.record(actor=author, target=thread, request=request, details={})
        post = _create_post(
            author=author,
            thread=thread,
            body=source,
            results=[title_result, body_result],
            body_result=body_result,
            is_opening=True,
            submission=submission,
            request=request,
        )
        space_files.attach(post, checked, stored, actor=author, request=request)
        return post

    return _once(author, submission, write, stored)


def reply(
    *,
    author: AbstractBaseUser,
    thread: Thread,
    body: str,
    confirm_phi: bool = False,
    submission=None,
    quoted_post=None,
    files=(),
    request: HttpRequest | None = None,
) -> Post:
    """Reply in ``thread``; returns the post (published, or held for a moderator).

    ``files`` (uploads) are shared with the post, in a clinician space only (``space_files``): all
    accepted or none, before anything is saved.

    ``quoted_post`` (a post or its id) is the post the reply quotes: kept
    only when it is a published post of the same community that the author
    can see, else left out without a word (the text the author wrote is
    theirs either way).

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
    posting_refusal(author, thread.community, thread)
    source = _clean_body(body)
    again = _existing_submission(author, submission)
    if again is not None:
        if again.thread_id == thread.pk and again.body_source == source:
            return again
        submission = None  # submissions.resent_elsewhere
    mentioned = mentions.validate(source)  # "No member is called @xyz", before anything is saved
    spaces.contain_text(actor=author, text=source, into=thread.community, request=request)
    body_result = _screen(author, thread.community, "body", source, confirm_phi=confirm_phi, mentioned=mentioned)
    quoted = _quotable(author, thread, quoted_post, request=request)
    checked = space_files.check(thread.community, files)
    _screen_file_names(author, thread.community, checked, confirm_phi=confirm_phi)
    ratelimit.check("community_post", request=request, user=author)
    stored: list[str] = []

    def write() -> Post:
        locked = locking.locked(Thread.objects.select_related("community")).get(pk=thread.pk)
        if locked.locked:
            raise CommunityDenied(_("This thread is locked: it takes no new replies."))
        post = _create_post(
            author=author,
            thread=locked,
            body=source,
            results=[body_result],
            body_result=body_result,
            is_opening=False,
            submission=submission,
            request=request,
            quoted_post=quoted,
        )
        space_files.attach(post, checked, stored, actor=author, request=request)
        return post

    return _once(author, submission, write, stored)
