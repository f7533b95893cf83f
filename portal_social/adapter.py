"""The one place a host plugs its own rules into portal_social.

Subclass ``PortalAdapter``, override the hooks you need, and point
``PORTAL_SOCIAL_ADAPTER`` at your class::

    # myportal/adapter.py
    from portal_social.adapter import PortalAdapter

    class HospitalAdapter(PortalAdapter):
        def is_eligible(self, user):
            return ehr_client.has_active_mrn(user.email)

    # settings.py
    PORTAL_SOCIAL_ADAPTER = "myportal.adapter.HospitalAdapter"

Every hook has a safe default. Hooks receive the current request when there
is one, so an adapter may read the host's session or headers.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from portal_social.conf import app_settings

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser
    from django.http import HttpRequest

logger = logging.getLogger("portal_social")


@dataclass(frozen=True)
class CompletedVisit:
    """One completed encounter, as :meth:`PortalAdapter.completed_visits` yields it.

    ``clinician`` (a ``ClinicianPage``) wins over ``clinician_npi`` when both are given.
    """

    patient: AbstractBaseUser
    visit_date: datetime.date
    encounter_id: str
    clinician_npi: str = ""
    clinician: Any = None
    site: str = ""
    service_line: str = ""


class PortalAdapter:
    """Default behaviour; override methods in a subclass to customise."""

    #: User-facing messages, gathered here so a host can reword or translate
    #: them in one place.
    error_messages: dict[str, Any] = {
        "mfa_required": _(
            "Your role can see patients' health information, so your account needs two-step "
            "verification. Set up an authenticator app to continue."
        ),
        "second_factor_required": _(
            "Your role can see patients' health information. Confirm it is you with your authenticator app to continue."
        ),
        "session_idle": _("You were signed out after a period of inactivity, to protect your information."),
        "session_expired": _("Your session has ended. Please sign in again."),
        "not_eligible": _("This portal is available to patients and members of %(organisation)s."),
    }

    def __init__(self, request: HttpRequest | None = None) -> None:
        self.request = request

    # Accounts -----------------------------------------------------------------

    def populate_new_user(self, request: HttpRequest | None, user: AbstractBaseUser) -> None:
        """Called once when a person signs up through the portal.

        The default gives them ``PORTAL_SOCIAL_DEFAULT_SIGNUP_ROLE`` (the
        patient role). Override to look the person up in the EHR or member
        system and give roles from there.
        """
        from portal_social.core import roles

        role = app_settings.DEFAULT_SIGNUP_ROLE
        if role:
            roles.grant_role(user=user, role=role)

    def is_eligible(self, user: AbstractBaseUser) -> bool:
        """Whether a signed-in person may use the portal's social features.

        Default: every active account. Override to check an EHR record,
        insurance eligibility or plan membership.
        """
        return bool(getattr(user, "is_active", False))

    def requires_mfa(self, user: AbstractBaseUser) -> bool:
        """Whether ``user`` must have MFA before any page that can show PHI.

        Default: superusers, Django staff and holders of any role in
        ``PORTAL_SOCIAL_MFA_REQUIRED_ROLES``. Override to add people (for
        example, every patient) — never to exempt staff.
        """
        from portal_social.core import roles

        return roles.requires_mfa(user)

    def get_mfa_enrolment_url(self, request: HttpRequest) -> str:
        """Where a user who must enrol MFA is sent. Default: allauth's TOTP setup."""
        return reverse("mfa_activate_totp")

    def session_passed_second_factor(self, session, user: AbstractBaseUser) -> bool:
        """Whether this session (not merely this account) passed a second factor.

        Default: allauth recorded a TOTP, security-key or recovery-code step
        in this session. Override only to trust a second factor your identity
        provider performed (for example an OIDC ``amr`` claim you stored in the
        session at sign-in); never to return ``True`` unconditionally.
        """
        from portal_social.core.second_factor import session_passed_second_factor

        return session_passed_second_factor(session, user)

    def get_second_factor_url(self, request: HttpRequest) -> str:
        """Where a staff member whose session lacks the second factor is sent.

        Default: allauth's "confirm with your authenticator" page.
        """
        return reverse("mfa_reauthenticate")

    # Reviews ----------------------------------------------------------------------

    def can_review(self, user: AbstractBaseUser, clinician) -> bool:
        """Whether ``user`` may review ``clinician`` (a ``ClinicianPage``).

        Default: a signed-in patient (not a caregiver) with an established
        relationship (``has_care_relationship``), and never the clinician
        themselves. Override with an EHR encounter check, e.g. "a completed
        visit with this NPI in the last 24 months".
        """
        from portal_social.core import roles

        if not getattr(user, "is_authenticated", False) or not roles.has_role(user, roles.PATIENT):
            return False
        if clinician.user_id is not None and clinician.user_id == user.pk:
            return False
        return self.has_care_relationship(user, clinician)

    def has_care_relationship(self, user: AbstractBaseUser, clinician) -> bool:
        """Whether the patient has been cared for by the clinician.

        Default: the clinician is on the patient's care team (a
        ``CareTeamLink``), or a completed visit with them was pulled through
        :meth:`completed_visits` (a ``ReviewInvitation`` row, sent or not).
        Override to ask the EHR.
        """
        from django.apps import apps

        visits = apps.get_model("portal_social", "ReviewInvitation")
        if visits.objects.filter(patient=user, clinician=clinician).exists():
            return True
        if clinician.user_id is None:
            return False
        links = apps.get_model("portal_social", "CareTeamLink")
        return links.objects.filter(patient=user, clinician_user_id=clinician.user_id).exists()

    def completed_visits(self, since: datetime.datetime) -> Iterable[CompletedVisit]:
        """Completed encounters the host recorded after ``since``, for review invitations.

        Yield :class:`CompletedVisit` objects: the patient's user, the
        clinician (an NPI, or the ``ClinicianPage``), the site's name, the
        visit date, the encounter's id in your systems (the pull is idempotent
        by it), and the service line (visits in an excluded one are never
        invited). Yielding a visit twice is harmless. Default: the ``Visit``
        table, which staff fill with ``manage.py portal_social_review_invitations
        import``. Override to read your EHR's encounters (an ADT feed, a FHIR
        ``Encounter`` search with ``status=finished``).
        """
        from django.apps import apps

        visits = apps.get_model("portal_social", "Visit")
        rows = visits.objects.filter(recorded_at__gt=since).select_related("patient").order_by("recorded_at", "pk")
        for row in rows.iterator(chunk_size=500):
            yield CompletedVisit(
                patient=row.patient,
                clinician_npi=row.clinician_npi,
                site=row.site,
                visit_date=row.visit_date,
                encounter_id=row.encounter_id,
                service_line=row.service_line,
            )

    # Secure messaging -------------------------------------------------------------

    def can_message(self, sender: AbstractBaseUser, pool, *, patient: AbstractBaseUser) -> bool:
        """Whether ``sender`` may start a conversation with ``pool`` (a ``CarePool``) about ``patient``.

        ``sender`` is the patient, or a caregiver already checked to hold a
        current messaging link for the patient: that check is not yours to
        relax. Default: the pool takes new conversations and staff recorded
        an established care relationship between the patient and the pool (a
        ``PoolPatient``). Override to ask the EHR (an encounter with the
        team's department in the last 24 months, say).
        """
        from django.apps import apps

        if not getattr(pool, "active", False):
            return False
        links = apps.get_model("portal_social", "PoolPatient")
        return links.objects.filter(pool=pool, patient=patient).exists()

    def file_to_record(self, conversation, *, text: str, pdf: bytes) -> str:
        """File a closed secure conversation to the patient's medical record; return where it went.

        ``text`` is the transcript (UTF-8 plain text) and ``pdf`` the same as a
        PDF; both name the patient, the team, every message's author, side and
        time, and say which messages were retracted (their text is left out).
        Default: write both to the private, encrypted storage
        (``core.files``) under ``records/`` and return the stored PDF's
        name. Override to send them to your EHR (an HL7 MDM message, a FHIR
        ``DocumentReference``), returning the document's id there. Raise to
        refuse; the conversation is then not marked filed.
        """
        from django.core.files.base import ContentFile

        from portal_social.core.files import private_storage

        storage = private_storage()
        folder = f"records/{conversation.pk}"
        storage.save(f"{folder}/conversation.txt", ContentFile(text.encode("utf-8")))
        return storage.save(f"{folder}/conversation.pdf", ContentFile(pdf))

    def scan_file(self, data: bytes, *, content_type: str) -> str | None:
        """Scan a file someone sends (a secure-message attachment) before it is stored.

        Called with the file's bytes after its kind was checked by content.
        Return None when it is clean, or a sentence for the sender when it is
        refused ("This file did not pass our security check."). Default:
        None. Override to ask your malware scanner (ClamAV through clamd, or
        your gateway's API); raise to refuse the send with a generic error
        when the scanner cannot be reached, rather than store an unscanned file.
        """
        return None

    # Notifications --------------------------------------------------------------

    def language_for(self, user: AbstractBaseUser) -> str:
        """The language ``user``'s notifications are written in. Default: ``LANGUAGE_CODE``.

        Override to read the language the person chose in the host portal.
        """
        from django.conf import settings

        return settings.LANGUAGE_CODE

    def notification_channels(self, user: AbstractBaseUser, template) -> list[str]:
        """The channels a notification reaches ``user`` through (``template`` is None for a daily summary).

        Default: email, when the account has an address; and a text message
        ("sms") for a notification whose template is marked ``by_text`` (secure
        messages), sent straight away (not in a daily summary), when
        ``PORTAL_SOCIAL_SMS_BACKEND`` is set and the person ticked "Also send
        me a text message" (it is then sent only if :meth:`sms_number` has a
        number). Return
        "push" or your own names too, and handle them in
        :meth:`send_notification`. The first channel is the one a failed
        delivery is retried for (``core.notify``).
        """
        channels = ["email"] if getattr(user, "email", "") else []
        if template is not None and getattr(template, "by_text", False) and self._texts_wanted(user):
            channels.append("sms")
        return channels

    def _texts_wanted(self, user: AbstractBaseUser) -> bool:
        """Texts are on and the person asked for them. Whether the host holds a number is asked once, when
        the text is sent (:meth:`send_notification`), since it may be a call to the EHR."""
        from portal_social.core import sms
        from portal_social.core.notify.models import NotificationPreference

        return sms.enabled() and NotificationPreference.objects.filter(user=user, by_text=True).exists()

    def sms_number(self, user: AbstractBaseUser) -> str | None:
        """The mobile number the host holds for ``user`` and may text, or None. Default: None.

        portal_social never stores it: it is read here when a text is sent, and
        shown masked ("•••• 1234") on the notification settings page. Return
        None for a number the person has not confirmed they receive texts on.
        """
        return None

    def send_notification(self, user: AbstractBaseUser, message, *, channel: str) -> None:
        """Deliver a rendered notification (``message``: subject, text, html, url) on ``channel``.

        Runs in a background task; raise on failure and the notification is
        retried with back-off. Default: email through Django's mail backend,
        and text messages through ``core.sms`` (the portal's name, the
        subject and the link only).
        """
        if channel == "sms":
            from portal_social.core import sms

            number = sms.normalise(self.sms_number(user))
            if number is not None:  # else the host holds no number (any more): nothing to send
                sms.send(number, sms.body_for(message))
            return
        if channel != "email":
            raise ValueError(f"no sender for notification channel {channel!r}: override send_notification")
        from django.core.mail import EmailMultiAlternatives

        email = EmailMultiAlternatives(message.subject, message.text, None, [user.email])
        email.attach_alternative(message.html, "text/html")
        email.send(fail_silently=False)

    def absolute_url(self, path: str) -> str:
        """Turn a portal path into an absolute URL for emails."""
        if path.startswith(("http://", "https://")):
            return path
        if self.request is not None:
            return self.request.build_absolute_uri(path)
        from django.conf import settings

        base = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or ""
        return base.rstrip("/") + path

    # Audit --------------------------------------------------------------------

    def anchor_audit_head(self, *, sequence: int, head_hash: str, at: datetime.datetime) -> None:
        """Keep the audit chain's head somewhere the portal's database cannot reach.

        Called by ``manage.py portal_social_audit anchor`` and the
        ``portal_social.core.audit_tasks.anchor_audit_head`` task, after the
        head's seal was checked. Someone who can write to the database cannot
        change a copy held elsewhere, so comparing it with the live chain
        reveals events removed from the end or a chain rebuilt from scratch.
        The arguments are hashes and counts, never PHI.

        Default: log them at INFO on the ``portal_social.audit`` logger, which
        helps only if the logs are shipped off the database host. Override to
        write to append-only storage (object storage with a retention lock, a
        separate log service, a transparency log), and override
        ``latest_audit_anchor`` to read the newest one back.
        """
        logging.getLogger("portal_social.audit").info(
            "audit chain head anchored: sequence=%d hash=%s at=%s", sequence, head_hash, at.isoformat()
        )

    def latest_audit_anchor(self) -> tuple[int, str] | None:
        """The newest anchor kept by ``anchor_audit_head``, as ``(sequence, head_hash)``.

        ``portal_social_audit verify`` then also requires that event to be in
        the chain with that hash. Default ``None``: no comparison.
        """
        return None

    def patient_for_reference(self, reference: str) -> AbstractBaseUser | None:
        """The portal account of the patient a clinician tagged by ``reference`` (an MRN) on a case
        discussion, or None. Each reading of the thread is then recorded against that patient, so it
        appears in "who looked at my record". Default: None (the reading is recorded as a PHI read that
        names a tagged patient without an account in the portal). Look the number up in your EHR here.
        """
        return None

    # Display ------------------------------------------------------------------

    def patient_label(self, patient: AbstractBaseUser) -> str:
        """How a patient is named to their care team (the team inbox, a conversation's header).

        Default: their full name, else their username. Override to add what
        your staff use to tell patients apart (a date of birth, an MRN from
        the EHR): it is shown only on staff pages, which are audited.
        """
        return (patient.get_full_name() or patient.get_username()).strip()

    def display_name(self, user: AbstractBaseUser) -> str:
        """How a person is named to others. Default: first name and last initial."""
        first = (getattr(user, "first_name", "") or "").strip()
        last = (getattr(user, "last_name", "") or "").strip()
        if first:
            return f"{first} {last[:1]}.".strip() if last else first
        return str(_("Portal member"))


_adapter_class_cache: dict[str, type[PortalAdapter]] = {}


def get_adapter_class() -> type[PortalAdapter]:
    path = app_settings.ADAPTER
    cls = _adapter_class_cache.get(path)
    if cls is None:
        try:
            cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"PORTAL_SOCIAL_ADAPTER {path!r} cannot be imported: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, PortalAdapter)):
            raise ImproperlyConfigured(f"PORTAL_SOCIAL_ADAPTER {path!r} must be a subclass of PortalAdapter.")
        _adapter_class_cache[path] = cls
    return cls


def get_adapter(request: HttpRequest | None = None) -> PortalAdapter:
    """The host's adapter, bound to ``request`` when there is one."""
    return get_adapter_class()(request)
