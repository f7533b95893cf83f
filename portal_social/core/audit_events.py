"""Every kind of audit event, one function each.

Code that changes or opens something calls the function for its event::

    from portal_social.core import audit_events

    audit_events.review_appealed(actor=clinician_user, review=review, request=request, details={...})

rather than ``audit.record("review.appeal", ...)`` with a string of its own.
Each function knows its action name, the severity it is written at, and the
object and patient it concerns, and takes keyword arguments naming what the
event needs. ``EVENT_TYPES`` maps every action name to the label the audit
viewer shows; ``tests/core/test_audit_events.py`` reads the package's source
and fails when any ``audit.record(...)`` names an action that is not
registered here.

``audit.record`` stays the low-level writer every function here calls.
What may go in ``details`` is what ``audit.record`` allows: ids, counts,
codes, never PHI and never a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from portal_social.core import audit

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.db.models import Model
    from django.http import HttpRequest

    from portal_social.core.models import AuditEvent

Severity = audit.Severity


@dataclass(frozen=True)
class EventType:
    """One kind of audit event: its action name, the viewer's label, its usual severity."""

    name: str
    label: Any  # a lazy translation string
    severity: str = Severity.INFO

    def record(self, **kwargs: Any) -> AuditEvent:
        kwargs.setdefault("severity", self.severity)
        return audit.record(self.name, **kwargs)


#: Every event type, by action name.
REGISTRY: dict[str, EventType] = {}
#: Every action name and the label the audit viewer shows for it.
EVENT_TYPES: dict[str, Any] = {}


def _register(name: str, label: Any, severity: str = Severity.INFO) -> EventType:
    if name in REGISTRY:
        raise ValueError(f"Audit event type {name!r} is registered twice")
    event_type = EventType(name, label, severity)
    REGISTRY[name] = event_type
    EVENT_TYPES[name] = label
    return event_type


#: For features that declare their event types in their own module (``core.moderation.events``).
register = _register


def label(action: str) -> str:
    """The human label for ``action``; the action name itself for one nobody registered."""
    found = EVENT_TYPES.get(action)
    return str(found) if found is not None else action


def _user_target(user: AbstractBaseUser) -> dict[str, str]:
    from django.contrib.auth import get_user_model

    return {"target_type": get_user_model()._meta.label_lower, "target_id": str(user.pk)}


def _maybe_user_target(user: AbstractBaseUser | None) -> dict[str, str]:
    return _user_target(user) if user is not None else {}


# --------------------------------------------------------------------------- sign-in

SIGNED_IN = _register("auth.login", _("Signed in"))
SIGN_IN_FAILED = _register("auth.login_failed", _("Sign-in refused (wrong password or side door)"))
SIGN_IN_LOCKED_OUT = _register("auth.lockout", _("Sign-in locked out by a limit"), Severity.NOTICE)
SIGNED_OUT = _register("auth.logout", _("Signed out"))

#: The lockout rule that means one address is trying many accounts.
SPRAYING_RULE = "accounts_per_address"


def signed_in(*, user: AbstractBaseUser, request: HttpRequest | None = None, factors: list[str]) -> AuditEvent:
    """A session signed ``user`` in, having passed ``factors`` (``password``, ``mfa:totp``…)."""
    return SIGNED_IN.record(actor=user, request=request, details={"factors": list(factors)}, **_user_target(user))


def sign_in_failed(
    *,
    actor: AbstractBaseUser | None,
    account: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    front_door: bool,
    reauthentication: bool,
) -> AuditEvent:
    """A password was refused. ``account`` is the account the typed name matched, if any; never the name."""
    return SIGN_IN_FAILED.record(
        actor=actor,
        request=request,
        details={"known_account": account is not None, "front_door": front_door, "reauthentication": reauthentication},
        **_maybe_user_target(account),
    )


def sign_in_locked_out(
    *, actor: AbstractBaseUser | None, account: AbstractBaseUser | None, request: HttpRequest | None = None, rule: str
) -> AuditEvent:
    """A sign-in refused by the limit ``rule``; password spraying (one address, many accounts) is HIGH."""
    return SIGN_IN_LOCKED_OUT.record(
        actor=actor,
        request=request,
        severity=Severity.HIGH if rule == SPRAYING_RULE else SIGN_IN_LOCKED_OUT.severity,
        details={"rule": rule, "known_account": account is not None},
        **_maybe_user_target(account),
    )


def signed_out(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> AuditEvent:
    """``user``'s session ended (sign-out, or a timeout)."""
    return SIGNED_OUT.record(actor=user, request=request, **_user_target(user))


# --------------------------------------------------------------------------- account changes

ACCOUNT_CREATED = _register("account.created", _("Account created"))
PASSWORD_CHANGED = _register("account.password_changed", _("Password changed"), Severity.NOTICE)
PASSWORD_SET = _register("account.password_set", _("Password set"), Severity.NOTICE)
PASSWORD_RESET = _register("account.password_reset", _("Password reset by emailed link"), Severity.NOTICE)
EMAIL_ADDED = _register("account.email_added", _("Email address added"))
EMAIL_REMOVED = _register("account.email_removed", _("Email address removed"), Severity.NOTICE)
EMAIL_CONFIRMED = _register("account.email_confirmed", _("Email address confirmed"))
EMAIL_CHANGED = _register("account.email_changed", _("Primary email address changed"), Severity.NOTICE)


def account_created(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> AuditEvent:
    return ACCOUNT_CREATED.record(actor=user, request=request, **_user_target(user))


def _account_change(
    event_type: EventType,
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    request: HttpRequest | None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    return event_type.record(actor=actor, request=request, details=details, **_user_target(user))


def password_changed(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, request: HttpRequest | None = None
) -> AuditEvent:
    return _account_change(PASSWORD_CHANGED, actor=actor, user=user, request=request)


def password_set(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, request: HttpRequest | None = None
) -> AuditEvent:
    return _account_change(PASSWORD_SET, actor=actor, user=user, request=request)


def password_reset(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, request: HttpRequest | None = None
) -> AuditEvent:
    return _account_change(PASSWORD_RESET, actor=actor, user=user, request=request)


def _email_details(email_address) -> dict[str, Any]:
    details: dict[str, Any] = {"verified": bool(email_address.verified)}
    if email_address.pk is not None:  # a removed address has no row, so no id, any more
        details["email_address"] = email_address.pk
    return details


def email_added(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, email_address, request: HttpRequest | None = None
) -> AuditEvent:
    """An address was added; named by its row's id, never the address."""
    return _account_change(EMAIL_ADDED, actor=actor, user=user, request=request, details=_email_details(email_address))


def email_removed(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, email_address, request: HttpRequest | None = None
) -> AuditEvent:
    return _account_change(
        EMAIL_REMOVED, actor=actor, user=user, request=request, details=_email_details(email_address)
    )


def email_confirmed(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, email_address, request: HttpRequest | None = None
) -> AuditEvent:
    return _account_change(
        EMAIL_CONFIRMED, actor=actor, user=user, request=request, details=_email_details(email_address)
    )


def email_changed(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    from_email_address,
    to_email_address,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """A new primary address (where password resets now go), by row ids."""
    details = {"from_email_address": getattr(from_email_address, "pk", None), "to_email_address": to_email_address.pk}
    return _account_change(EMAIL_CHANGED, actor=actor, user=user, request=request, details=details)


# --------------------------------------------------------------------------- second factors

MFA_ENROLLED = _register("mfa.enrolled", _("Second factor enrolled"), Severity.NOTICE)
MFA_REMOVED = _register("mfa.removed", _("Second factor removed"), Severity.HIGH)
MFA_RESET = _register("mfa.reset", _("Recovery codes replaced"), Severity.NOTICE)
RECOVERY_CODE_USED = _register("mfa.recovery_code_used", _("Recovery code used"), Severity.NOTICE)
MFA_FAILED = _register("mfa.failed", _("Second-factor code refused"), Severity.NOTICE)


def _authenticator_details(authenticator) -> dict[str, Any]:
    return {"authenticator": authenticator.pk, "type": str(authenticator.type)}


def mfa_enrolled(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, authenticator, request: HttpRequest | None = None
) -> AuditEvent:
    """TOTP, a security key or recovery codes added."""
    return _account_change(
        MFA_ENROLLED, actor=actor, user=user, request=request, details=_authenticator_details(authenticator)
    )


def mfa_removed(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, authenticator, request: HttpRequest | None = None
) -> AuditEvent:
    """A second factor removed: the account is weaker from now on."""
    return _account_change(
        MFA_REMOVED, actor=actor, user=user, request=request, details=_authenticator_details(authenticator)
    )


def mfa_reset(
    *, actor: AbstractBaseUser | None, user: AbstractBaseUser, authenticator, request: HttpRequest | None = None
) -> AuditEvent:
    """New recovery codes; the old ones no longer work."""
    return _account_change(
        MFA_RESET, actor=actor, user=user, request=request, details=_authenticator_details(authenticator)
    )


def recovery_code_used(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    authenticator,
    codes_left: int,
    reauthentication: bool,
    request: HttpRequest | None = None,
) -> AuditEvent:
    details = {**_authenticator_details(authenticator), "codes_left": codes_left, "reauthentication": reauthentication}
    return _account_change(RECOVERY_CODE_USED, actor=actor, user=user, request=request, details=details)


def mfa_failed(
    *,
    actor: AbstractBaseUser | None,
    user: AbstractBaseUser,
    authenticator_type: str,
    reauthentication: bool,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """A wrong second-factor code after a right password."""
    details = {"type": authenticator_type, "reauthentication": reauthentication}
    return _account_change(MFA_FAILED, actor=actor, user=user, request=request, details=details)


# --------------------------------------------------------------------------- roles and emergency access

ROLE_GRANTED = _register("role.grant", _("Role granted"), Severity.NOTICE)
ROLE_REVOKED = _register("role.revoke", _("Role revoked"), Severity.NOTICE)
BREAK_GLASS_OPENED = _register("break_glass.open", _("Emergency access opened"), Severity.HIGH)
BREAK_GLASS_READ = _register("break_glass.read", _("Record opened through emergency access"), Severity.HIGH)


def role_granted(*, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: str) -> AuditEvent:
    """``user`` gained ``role`` (a slug); ``actor`` None when the system granted it."""
    return ROLE_GRANTED.record(actor=actor, details={"role": role}, **_user_target(user))


def role_revoked(*, actor: AbstractBaseUser | None, user: AbstractBaseUser, role: str) -> AuditEvent:
    return ROLE_REVOKED.record(actor=actor, details={"role": role}, **_user_target(user))


def break_glass_opened(
    *,
    actor: AbstractBaseUser,
    target: Model,
    grant,
    minutes: int,
    patient: AbstractBaseUser | int | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """``actor`` declared an emergency and was granted ``target`` for ``minutes``. Never the written reason."""
    return BREAK_GLASS_OPENED.record(
        actor=actor,
        target=target,
        patient=patient,
        request=request,
        reason=f"break-the-glass grant {grant.pk}",
        details={"minutes": minutes},
    )


def break_glass_read(
    *,
    actor: AbstractBaseUser,
    target: Model,
    grant,
    action: str,
    patient: AbstractBaseUser | int | None = None,
    request: HttpRequest | None = None,
) -> AuditEvent:
    """``actor`` opened ``target`` only because an emergency grant allowed it."""
    return BREAK_GLASS_READ.record(
        actor=actor,
        target=target,
        patient=patient,
        request=request,
        reason=f"break-the-glass grant {grant.pk}",
        details={"action": action},
    )


# --------------------------------------------------------------------------- PHI reads

PHI_READ = _register("phi.read", _("Health information opened"))


def phi_read(
    *,
    actor: AbstractBaseUser,
    target: Model,
    patient: AbstractBaseUser | int | None,
    action: str = "view",
    request: HttpRequest | None = None,
    reason: str = "",
) -> AuditEvent:
    """``actor`` opened PHI held in ``target`` about ``patient`` (``access.require`` writes it)."""
    return PHI_READ.record(
        actor=actor, target=target, patient=patient, request=request, reason=reason, details={"action": action}
    )


# --------------------------------------------------------------------------- caregivers

CAREGIVER_LINKED = _register("caregiver.link", _("Caregiver linked to a patient"), Severity.NOTICE)
CAREGIVER_UNLINKED = _register("caregiver.unlink", _("Caregiver link ended"), Severity.NOTICE)
CAREGIVER_LINKS_VIEWED = _register("caregiver.links_viewed", _("A person's caregiver links opened by staff"))


def caregiver_linked(
    *,
    actor: AbstractBaseUser | None,
    relation: Model,
    patient: AbstractBaseUser | int,
    scopes: Iterable[str],
    request: HttpRequest | None = None,
) -> AuditEvent:
    return CAREGIVER_LINKED.record(
        actor=actor, target=relation, patient=patient, request=request, details={"scopes": sorted(scopes)}
    )


def caregiver_unlinked(
    *,
    actor: AbstractBaseUser | None,
    relation: Model,
    patient: AbstractBaseUser | int,
    request: HttpRequest | None = None,
) -> AuditEvent:
    return CAREGIVER_UNLINKED.record(actor=actor, target=relation, patient=patient, request=request)


def caregiver_links_viewed(*, actor: AbstractBaseUser, person: AbstractBaseUser, request: HttpRequest | None = None):
    """Staff opened ``person``'s caregiver links (who acts for them, whom they act for) in the admin."""
    return CAREGIVER_LINKS_VIEWED.record(actor=actor, patient=person, request=request, **_user_target(person))


# --------------------------------------------------------------------------- clinician reviews and profiles

REVIEW_SUBMITTED = _register("review.submit", _("Review submitted by patient"))
REVIEW_APPROVED = _register("review.approve", _("Review approved by moderator"))
REVIEW_REJECTED = _register("review.reject", _("Review rejected by moderator"))
REVIEW_REDACTED = _register("review.redact", _("Review redacted by moderator"))
REVIEW_APPEALED = _register("review.appeal", _("Review appealed by clinician"))
APPEAL_RESOLVED = _register("review.appeal_resolve", _("Review appeal decided by moderator"))
REVIEW_RESPONDED = _register("review.respond", _("Review answered by staff"))
REVIEW_REPORTED = _register("review.report", _("Review reported"))
#: Written by the review queue before reviews moved onto the shared moderation queue; kept so old rows keep their label.
REVIEW_QUEUE_VIEWED = _register("review.moderation_view", _("Review moderation queue opened"))
PROFILE_CHANGES_SUBMITTED = _register("profile.submit_changes", _("Clinician profile changes submitted"))


def _review_event(
    event_type: EventType,
    *,
    actor: AbstractBaseUser | None,
    review: Model,
    request: HttpRequest | None,
    details: dict[str, Any] | None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    """The review is the object; its author is the patient unless the caller names one."""
    if patient is None:
        patient = review.author_id
    return event_type.record(actor=actor, target=review, patient=patient, request=request, details=details)


def review_submitted(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(
        REVIEW_SUBMITTED, actor=actor, review=review, request=request, details=details, patient=patient
    )


def review_approved(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(REVIEW_APPROVED, actor=actor, review=review, request=request, details=details, patient=patient)


def review_rejected(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(REVIEW_REJECTED, actor=actor, review=review, request=request, details=details, patient=patient)


def review_redacted(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(REVIEW_REDACTED, actor=actor, review=review, request=request, details=details, patient=patient)


def review_appealed(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(REVIEW_APPEALED, actor=actor, review=review, request=request, details=details, patient=patient)


def appeal_resolved(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(APPEAL_RESOLVED, actor=actor, review=review, request=request, details=details, patient=patient)


def review_responded(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(
        REVIEW_RESPONDED, actor=actor, review=review, request=request, details=details, patient=patient
    )


def review_reported(
    *,
    actor: AbstractBaseUser,
    review: Model,
    request: HttpRequest | None = None,
    details: dict[str, Any] | None = None,
    patient: AbstractBaseUser | int | None = None,
) -> AuditEvent:
    return _review_event(REVIEW_REPORTED, actor=actor, review=review, request=request, details=details, patient=patient)


def profile_changes_submitted(
    *, actor: AbstractBaseUser, page: Model, request: HttpRequest | None = None, details: dict[str, Any] | None = None
) -> AuditEvent:
    """A clinician submitted changes to their profile page for review."""
    return PROFILE_CHANGES_SUBMITTED.record(actor=actor, target=page, request=request, details=details)


# --------------------------------------------------------------------------- the audit trail and keys

AUDIT_LOG_VIEWED = _register("audit.view", _("Audit log viewed"))
AUDIT_LOG_EXPORTED = _register("audit.export", _("Audit log exported"))
AUDIT_CHAIN_RESEALED = _register("audit.reseal", _("Audit chain re-sealed under a new key"), Severity.NOTICE)
KEYS_ROTATED = _register("keys.rotated", _("Encryption keys rotated"), Severity.NOTICE)


def audit_log_viewed(*, request: HttpRequest, filters: list[str], page: int) -> AuditEvent:
    """The viewer showed a page; ``filters`` are the names of the filters used, never their values."""
    return AUDIT_LOG_VIEWED.record(request=request, details={"filters": sorted(filters), "page": page})


def audit_log_exported(
    *, since: str = "", until: str = "", export_format: str, actor: AbstractBaseUser | None = None
) -> AuditEvent:
    return AUDIT_LOG_EXPORTED.record(
        actor=actor, details={"since": since or "", "until": until or "", "format": export_format}
    )


def audit_chain_resealed(*, events: int, from_key_ids: list[str], to_key_id: str) -> AuditEvent:
    """Every event was re-signed under the key ``to_key_id`` (fingerprints, never keys)."""
    return AUDIT_CHAIN_RESEALED.record(
        reason="chain re-sealed under the current audit key",
        details={"events": events, "from_key_ids": list(from_key_ids), "to_key_id": to_key_id},
    )


def keys_rotated(
    *,
    rows: dict[str, int],
    current_key_id: str,
    key_ids: list[str],
    actor: AbstractBaseUser | None = None,
    files: int | None = None,
) -> AuditEvent:
    """Stored values were re-encrypted under the current key.

    ``rows`` counts re-encrypted rows by model label; ``current_key_id`` and
    ``key_ids`` are fingerprints of the encryption keys (``crypto.key_fingerprint``), never keys.
    """
    details: dict[str, Any] = {
        "rows": dict(sorted(rows.items())),
        "total": sum(rows.values()),
        "current_key_id": current_key_id,
        "key_ids": list(key_ids),
    }
    if files is not None:
        details["files"] = files
    return KEYS_ROTATED.record(actor=actor, reason="stored values re-encrypted under the current key", details=details)
