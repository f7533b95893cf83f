"""Settings for portal_social, read from the host's Django settings.

Every setting is named ``PORTAL_SOCIAL_<NAME>`` in the host's settings module
and read here through one property, so its default and meaning live in one
place. Cross-setting rules are Django system checks (``portal_social.checks``).

Usage::

    from portal_social.conf import app_settings
    app_settings.SESSION_IDLE_TIMEOUT
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

PREFIX = "PORTAL_SOCIAL_"

#: Role slugs that are staff roles: they must enrol MFA before any page that
#: can show PHI. Patients and caregivers are not staff.
STAFF_ROLES = (
    "clinician",
    "care_team",
    "community_moderator",
    "community_mentor",
    "patient_experience",
    "risk_manager",
    "portal_administrator",
)


def _as_list(value) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(str(part).strip() for part in value if str(part).strip())


class AppSettings:
    """One property per setting; each docstring is the reference text."""

    def _setting(self, name: str, default: Any) -> Any:
        return getattr(settings, PREFIX + name, default)

    @property
    def ADAPTER(self) -> str:
        """Dotted path of the host's ``PortalAdapter`` subclass.

        Default ``"portal_social.adapter.PortalAdapter"``.
        """
        return self._setting("ADAPTER", "portal_social.adapter.PortalAdapter")

    @property
    def ENCRYPTION_KEYS(self) -> list[str]:
        """Fernet keys (url-safe base64, 32 bytes) for PHI encrypted at rest.

        The first key encrypts; every key decrypts, so a new key is put first
        and old keys stay listed until ``portal_social_rotate_keys`` has run.
        A comma-separated string (as read from the environment) is accepted.
        Required outside DEBUG. Default: none.
        """
        value = self._setting("ENCRYPTION_KEYS", [])
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        return list(value)

    @property
    def AUDIT_KEYS(self) -> list:
        """Secret keys for the audit chain's HMAC-SHA256 (random strings, 32+ characters).

        The first key signs new events and the chain head; every key listed
        verifies, so a new key is put first and old keys stay listed for as
        long as events they signed are kept. Kept out of the database, like
        the encryption keys. A comma-separated string (as read from the
        environment) is accepted. Generate one with
        ``python -c 'import secrets; print(secrets.token_urlsafe(32))'``.

        Default: none, and then a key is derived from each
        ``PORTAL_SOCIAL_ENCRYPTION_KEYS`` key with HKDF-SHA256, so existing
        installs keep working. A separate key is better: whoever holds the
        audit key can rewrite the trail, and a key held apart from the
        encryption keys can be held by fewer people.
        """
        value = self._setting("AUDIT_KEYS", [])
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list | tuple):
            return list(value)
        # Anything else is reported by system check E017 rather than guessed at.
        return [value]

    @property
    def SESSION_IDLE_TIMEOUT(self) -> int:
        """Seconds of inactivity after which a signed-in user is signed out.

        Default 900 (15 minutes), the common expectation of a hospital's
        security review for screens that can show PHI. ``0`` disables it.
        """
        return int(self._setting("SESSION_IDLE_TIMEOUT", 15 * 60))

    @property
    def SESSION_ABSOLUTE_TIMEOUT(self) -> int:
        """Seconds after sign-in after which the session ends, however active.

        Default 43200 (12 hours: one clinical shift). ``0`` disables it.
        """
        return int(self._setting("SESSION_ABSOLUTE_TIMEOUT", 12 * 60 * 60))

    @property
    def MFA_REQUIRED_ROLES(self) -> tuple[str, ...]:
        """Role slugs whose members must enrol MFA before seeing any PHI page.

        Default: every staff role (clinician, care team, community moderator,
        community mentor, patient experience, risk manager, portal
        administrator). Superusers always need MFA.
        """
        return tuple(self._setting("MFA_REQUIRED_ROLES", STAFF_ROLES))

    @property
    def MFA_EXEMPT_URL_NAMES(self) -> tuple[str, ...]:
        """URL names a user without MFA may still open, in addition to allauth's.

        Pages that can show no PHI: the sign-out, MFA enrolment and account
        pages are always exempt. Default: none.
        """
        return tuple(self._setting("MFA_EXEMPT_URL_NAMES", ()))

    @property
    def MFA_EXEMPT_PATH_PREFIXES(self) -> tuple[str, ...]:
        """URL path prefixes served without the MFA gate (static files, health).

        Default: ``STATIC_URL`` and ``MEDIA_URL`` are always exempt; this adds
        more. Default: none.
        """
        return tuple(self._setting("MFA_EXEMPT_PATH_PREFIXES", ()))

    @property
    def NO_STORE_AUTHENTICATED(self) -> bool:
        """Send ``Cache-Control: no-store`` on every response to a signed-in user.

        Default ``True``: browsers and proxies must not keep pages that may
        hold PHI. Turn off only if the host sets the header itself.
        """
        return bool(self._setting("NO_STORE_AUTHENTICATED", True))

    @property
    def DEFAULT_SIGNUP_ROLE(self) -> str | None:
        """Role given to a person who signs up through the portal.

        Default ``"patient"``. An insurer's member portal may keep
        ``"patient"`` (members); ``None`` gives no role, leaving it to the
        adapter's ``populate_new_user``.
        """
        return self._setting("DEFAULT_SIGNUP_ROLE", "patient")

    @property
    def BREAK_GLASS_MINUTES(self) -> int:
        """Minutes a break-the-glass grant stays open. Default 60.

        After that the grant cannot be used again; a new emergency needs a new
        written reason.
        """
        return int(self._setting("BREAK_GLASS_MINUTES", 60))

    @property
    def RATE_LIMITS(self) -> dict[str, str]:
        """Per-action rate limits, ``{"action": "N/period[,N/period/ip]"}``, merged over the defaults.

        Period is ``s``, ``m``, ``h`` or ``d`` with an optional count, as in
        ``"5/m"`` or ``"20/15m"``. A rate counts per signed-in user; one
        ending ``/ip`` counts per client address, as a generous backstop
        (people behind one hospital network share an address). Comma-separate
        several, as in ``"5/d,1000/d/ip"``. Counted in the default cache
        (Redis in production, so all workers share them).
        """
        return dict(self._setting("RATE_LIMITS", {}))

    @property
    def TRUSTED_PROXIES(self) -> tuple[str, ...]:
        """Addresses or networks (CIDR) of the load balancers and proxies in front of the portal.

        When a request arrives from one of them, the client's address is read
        from ``X-Forwarded-For`` (the right-most entry that is not a trusted
        proxy) for the audit log and every rate limit; from anyone else the
        header is ignored. A comma-separated string (as read from the
        environment) is accepted. Default: none, so ``REMOTE_ADDR`` is used.
        """
        return _as_list(self._setting("TRUSTED_PROXIES", ()))

    @property
    def TEXT_MAX_LENGTH(self) -> int:
        """Maximum length, in characters, of one user text (post, reply, review, message).

        Counted after line endings are normalised (a browser's ``\\r\\n``
        counts once). Longer text raises ``portal_social.core.text.TextTooLong``,
        a ``ValidationError`` naming both numbers and never the text.
        Default 20000.
        """
        return int(self._setting("TEXT_MAX_LENGTH", 20_000))

    @property
    def TEXT_ALLOW_IMAGES(self) -> bool:
        """Whether Markdown images in user text are shown. Default ``False``.

        Off, images are replaced by their alt text: a remote image tells its
        host who read a post, and when, and photos can show patients. On, only
        ``https://`` images are kept, with ``referrerpolicy="no-referrer"``;
        the host's CSP ``img-src`` must allow the image hosts.
        """
        return bool(self._setting("TEXT_ALLOW_IMAGES", False))

    @property
    def PHI_MRN_PATTERNS(self) -> tuple:
        """Regular expressions for the site's medical record numbers. Default: none.

        Matched anywhere in text headed for a public place, with no cue word
        needed. A named group ``mrn`` marks the span, otherwise the whole
        match. Strings or compiled patterns; a single string is one pattern
        and is not split on commas. Use bounded quantifiers: these run on
        every post.
        """
        value = self._setting("PHI_MRN_PATTERNS", ())
        return (value,) if isinstance(value, str) or hasattr(value, "pattern") else tuple(value or ())

    @property
    def PHI_ALLOWED_NUMBERS(self) -> tuple[str, ...]:
        """The organisation's own phone and fax numbers, never flagged as PHI. Default: none.

        Only digits are compared, and a leading 1 is ignored. Added to the
        built-in public numbers (911, 988, 411, 311, 211, 1-800-273-8255). A
        comma-separated string is accepted.
        """
        return _as_list(self._setting("PHI_ALLOWED_NUMBERS", ()))

    @property
    def PHI_ALLOWED_DOMAINS(self) -> tuple[str, ...]:
        """Domains whose links are never flagged as PHI, subdomains included. Default: none.

        For example the organisation's own site. An entry containing ``/`` is
        a URL prefix, such as ``facebook.com/OurHospital``. Added to the
        built-in public health sites and the non-wildcard ``ALLOWED_HOSTS``.
        A comma-separated string is accepted.
        """
        return _as_list(self._setting("PHI_ALLOWED_DOMAINS", ()))

    @property
    def REVIEWS_MIN_COUNT(self) -> int:
        """Ratings a clinician needs before aggregate stars are shown. Default 30.

        Thirty is the common industry threshold: fewer ratings swing too much
        to be fair to the clinician or useful to patients.
        """
        return int(self._setting("REVIEWS_MIN_COUNT", 30))

    @property
    def REVIEW_QUESTIONS(self) -> tuple[tuple[str, str], ...]:
        """The questions a patient rates 1–5 stars, as ``(key, label)`` pairs.

        Default: explains things clearly, listens carefully, shows respect,
        would recommend. Keys are stored with each rating; keep old keys when
        rewording a label.
        """
        return tuple(
            tuple(pair)
            for pair in self._setting(
                "REVIEW_QUESTIONS",
                (
                    ("explains", "Explains things in a way that is easy to understand"),
                    ("listens", "Listens carefully"),
                    ("respect", "Shows respect for what you have to say"),
                    ("recommend", "Would recommend to family and friends"),
                ),
            )
        )

    @property
    def REVIEW_NEW_ACCOUNT_DAYS(self) -> int:
        """Comments from accounts younger than this many days are held for a moderator. Default 7."""
        return int(self._setting("REVIEW_NEW_ACCOUNT_DAYS", 7))

    @property
    def REVIEW_INVITATION_DELAY_DAYS(self) -> int:
        """Days after a visit before its review invitation is sent (at 09:00 local time). Default 1."""
        return max(0, int(self._setting("REVIEW_INVITATION_DELAY_DAYS", 1)))

    @property
    def REVIEW_INVITATION_EXPIRY_DAYS(self) -> int:
        """Days an invitation's link stays usable after it is due to be sent. Default 30."""
        return max(1, int(self._setting("REVIEW_INVITATION_EXPIRY_DAYS", 30)))

    @property
    def REVIEW_INVITATION_MONTHLY_CAP(self) -> int:
        """Invitations one patient may be sent in any 30 days, whatever the clinician. Default 2."""
        return max(0, int(self._setting("REVIEW_INVITATION_MONTHLY_CAP", 2)))

    @property
    def REVIEW_INVITATION_EXCLUDED_SERVICE_LINES(self) -> tuple[str, ...]:
        """Service lines whose visits never lead to an invitation, compared without regard to case,
        spaces, hyphens or "&"/"and". Default: behavioural and mental health, psychiatry and
        psychology, reproductive and sexual health, family planning, substance use and addiction,
        HIV care, and genetic counselling. A comma-separated string is accepted."""
        return _as_list(
            self._setting(
                "REVIEW_INVITATION_EXCLUDED_SERVICE_LINES",
                (
                    "behavioral health",
                    "behavioural health",
                    "mental health",
                    "psychiatry",
                    "psychology",
                    "reproductive health",
                    "sexual health",
                    "family planning",
                    "obstetrics and gynecology",
                    "substance use",
                    "substance use disorder",
                    "addiction medicine",
                    "hiv care",
                    "hiv",
                    "genetic counseling",
                    "genetic counselling",
                ),
            )
        )

    @property
    def COMMUNITY_HELD_FIRST_POSTS(self) -> int:
        """A new member's first this-many posts wait for a moderator (trust level 0). Default 1; 0 turns it off."""
        return max(0, int(self._setting("COMMUNITY_HELD_FIRST_POSTS", 1)))

    @property
    def COMMUNITY_FLAG_HIDE_SCORE(self) -> float:
        """Flags on a published post add up, weighted by each flagger's trust level (0.5, 1, 1.5, 2 for
        levels 0 to 3); at this score the post is hidden until a moderator decides. Default 3: three
        members of trust level 1. 0 turns automatic hiding off."""
        return max(0.0, float(self._setting("COMMUNITY_FLAG_HIDE_SCORE", 3)))

    @property
    def COMMUNITY_REACTIONS(self) -> tuple[tuple[str, Any], ...]:
        """The reactions members may give a community post, in the order shown: ``{key: label}`` or a
        list of ``(key, label)`` pairs. A key is 1 to 20 of ``a-z`` and ``_`` (it is stored with each
        reaction: renaming one drops its counts); a label is what members read (use ``gettext_lazy``).
        Default: ``helpful`` "Helpful", ``hug`` "Sending a hug", ``like`` "Like". A system check
        reports a malformed value."""
        from django.utils.translation import gettext_lazy

        default = (
            ("helpful", gettext_lazy("Helpful")),
            ("hug", gettext_lazy("Sending a hug")),
            ("like", gettext_lazy("Like")),
        )
        value = self._setting("COMMUNITY_REACTIONS", None)
        if value is None:
            return default
        items = value.items() if hasattr(value, "items") else value
        return tuple(tuple(item) for item in items)

    @property
    def COMMUNITY_BADGES(self) -> tuple[Any, ...]:
        """The badges members earn, in the order their member card shows them: a list of dicts, each
        with a ``key`` (1 to 40 of ``a-z``, ``0-9`` and ``_``; stored with each award), a ``label`` (what
        members read; use ``gettext_lazy``) and ``earned_by``, one of the rules the code knows:
        ``"posts"`` (``count`` published posts), ``"answers"`` (``count`` replies chosen as a thread's
        answer), ``"days_member"`` (``days`` since the member chose a community name) and
        ``"reactions_received"`` (``count`` reactions of ``kind`` on their posts). Default: ``first_post``,
        ``helpful_answer``, ``year_member`` and ``helpful_10``. An empty list turns badges off. A system
        check reports a malformed value (``community.actions.badges``)."""
        from django.utils.translation import gettext_lazy

        default = (
            {"key": "first_post", "label": gettext_lazy("First post"), "earned_by": "posts", "count": 1},
            {"key": "helpful_answer", "label": gettext_lazy("Helpful answer"), "earned_by": "answers", "count": 1},
            {"key": "year_member", "label": gettext_lazy("A year with us"), "earned_by": "days_member", "days": 365},
            {
                "key": "helpful_10",
                "label": gettext_lazy("Helpful to many"),
                "earned_by": "reactions_received",
                "kind": "helpful",
                "count": 10,
            },
        )
        value = self._setting("COMMUNITY_BADGES", None)
        return default if value is None else tuple(value)

    @property
    def COMMUNITY_TRUST_LEVELS(self) -> dict[int, dict[str, int]]:
        """What a member needs to reach trust levels 1, 2 and 3 automatically: a dict of level to
        requirements, each a minimum of ``days`` (since they chose a community name), ``posts_read``,
        ``post_count`` (published posts), ``days_visited``, and for level 3 ``clean_days`` (no penalty
        in that many days). Levels and keys left out keep their defaults::

            {1: {"days": 1, "posts_read": 10, "days_visited": 2},
             2: {"days": 15, "posts_read": 100, "post_count": 5, "days_visited": 10},
             3: {"days": 60, "posts_read": 500, "post_count": 20, "days_visited": 40, "clean_days": 180}}
        """
        levels = {
            1: {"days": 1, "posts_read": 10, "post_count": 0, "days_visited": 2, "clean_days": 0},
            2: {"days": 15, "posts_read": 100, "post_count": 5, "days_visited": 10, "clean_days": 0},
            3: {"days": 60, "posts_read": 500, "post_count": 20, "days_visited": 40, "clean_days": 180},
        }
        for level, requirements in dict(self._setting("COMMUNITY_TRUST_LEVELS", {})).items():
            if int(level) in levels:
                levels[int(level)].update({key: max(0, int(value)) for key, value in dict(requirements).items()})
        return levels

    @property
    def COMMUNITY_PENALTY_STEPS(self) -> tuple[int, ...]:
        """How long a silence or suspension lasts by default, in seconds, by how many of the same kind the
        member had in the last year: the first step for the first, the last for every one after the list.
        Default ``(86400, 259200, 604800, 2592000)``: 1, 3, 7 and 30 days. A moderator may choose another."""
        steps = tuple(int(step) for step in self._setting("COMMUNITY_PENALTY_STEPS", (86400, 259200, 604800, 2592000)))
        return tuple(step for step in steps if step > 0) or (86400,)

    @property
    def MESSAGING_TOPICS(self) -> tuple[tuple[str, Any], ...]:
        """What a secure conversation can be about, in the order the compose form lists them:
        ``{key: label}`` or ``(key, label)`` pairs; a key is 1 to 40 of ``a-z`` and ``_`` (stored with
        each conversation). Default: medical question, prescription renewal, appointment, billing,
        referral, test results, other. A system check reports a malformed value."""
        from django.utils.translation import gettext_lazy

        default = (
            ("medical_question", gettext_lazy("Medical question")),
            ("prescription_renewal", gettext_lazy("Prescription renewal")),
            ("appointment", gettext_lazy("Appointment")),
            ("billing", gettext_lazy("Billing")),
            ("referral", gettext_lazy("Referral")),
            ("test_results", gettext_lazy("Test results")),
            ("other", gettext_lazy("Other")),
        )
        value = self._setting("MESSAGING_TOPICS", None)
        if value is None:
            return default
        items = value.items() if hasattr(value, "items") else value
        return tuple(tuple(item) for item in items)

    @property
    def MESSAGING_ATTACHMENT_TYPES(self) -> tuple[str, ...]:
        """The kinds of file a secure message may carry, by content type, recognised by their bytes
        (``core.files.KINDS``: ``application/pdf``, ``image/png``, ``image/jpeg``, ``image/heic``).
        Default: all four. An empty list turns attachments off."""
        from portal_social.core.files import KINDS

        return _as_list(self._setting("MESSAGING_ATTACHMENT_TYPES", tuple(KINDS)))

    @property
    def MESSAGING_ATTACHMENT_MAX_BYTES(self) -> int:
        """The largest file a secure message may carry, in bytes. Default 10 MB (10485760)."""
        return max(1, int(self._setting("MESSAGING_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)))

    @property
    def MESSAGING_ATTACHMENT_MAX_FILES(self) -> int:
        """How many files one secure message may carry. Default 5."""
        return max(1, int(self._setting("MESSAGING_ATTACHMENT_MAX_FILES", 5)))

    @property
    def MESSAGING_ATTACHMENT_MAX_TOTAL_BYTES(self) -> int:
        """The most all the files of one secure message may weigh together, in bytes (each is read into
        memory to be checked and encrypted). Default 25 MB (26214400)."""
        return max(1, int(self._setting("MESSAGING_ATTACHMENT_MAX_TOTAL_BYTES", 25 * 1024 * 1024)))

    @property
    def UPLOAD_MAX_BYTES(self) -> int:
        """The most the uploaded files of one request may weigh together and still be kept, in memory, by
        ``core.uploads.MemoryOnlyUploadHandler`` (a file past it arrives with its size but no content, and
        is refused as too large). Default 64 MB (67108864): above every limit the portal sets."""
        return max(1, int(self._setting("UPLOAD_MAX_BYTES", 64 * 1024 * 1024)))

    @property
    def SPACE_FILE_TYPES(self) -> tuple[str, ...]:
        """The kinds of file members may share in a clinician space, by content type, recognised by their
        bytes (``core.files.KINDS``). Default: all of them. An empty list turns file sharing off."""
        from portal_social.core.files import KINDS

        return _as_list(self._setting("SPACE_FILE_TYPES", tuple(KINDS)))

    @property
    def SPACE_FILE_MAX_BYTES(self) -> int:
        """The largest file a clinician space takes, in bytes. Default 20 MB (20971520)."""
        return max(1, int(self._setting("SPACE_FILE_MAX_BYTES", 20 * 1024 * 1024)))

    @property
    def SPACE_FILE_MAX_FILES(self) -> int:
        """How many files one post in a clinician space may carry. Default 5."""
        return max(1, int(self._setting("SPACE_FILE_MAX_FILES", 5)))

    @property
    def SPACE_FILE_MAX_TOTAL_BYTES(self) -> int:
        """The most all the files of one post in a clinician space may weigh together. Default 50 MB."""
        return max(1, int(self._setting("SPACE_FILE_MAX_TOTAL_BYTES", 50 * 1024 * 1024)))

    @property
    def MESSAGING_RETRACT_SECONDS(self) -> int:
        """How long after sending a sender may retract a message (it then shows as "retracted").
        Default 120 (two minutes); 0 turns retraction off."""
        return max(0, int(self._setting("MESSAGING_RETRACT_SECONDS", 120)))

    @property
    def MESSAGING_REOPEN_DAYS(self) -> int:
        """A closed conversation is reopened by a new message from the patient's side within this many
        days of closing; after that the patient starts a new conversation. Default 14."""
        return max(0, int(self._setting("MESSAGING_REOPEN_DAYS", 14)))

    @property
    def MESSAGING_REMINDER_HOURS(self) -> int:
        """A message unread this many hours after it was sent earns its reader one reminder
        ("You have an unread secure message"). Default 24; 0 turns reminders off."""
        return max(0, int(self._setting("MESSAGING_REMINDER_HOURS", 24)))

    @property
    def MESSAGING_EMERGENCY_NOTICE(self) -> str:
        """The sentence every compose and reply form shows. Default "If this is an emergency, call 911."."""
        from django.utils.translation import gettext

        return str(self._setting("MESSAGING_EMERGENCY_NOTICE", None) or gettext("If this is an emergency, call 911."))

    @property
    def FEEDBACK_SLA(self) -> dict | None:
        """SLA clocks for feedback cases: ``{"*" | type | "type:severity": {clock: duration}}``.

        Clocks: ``first_reply`` (public items), ``acknowledge``, ``resolve``;
        durations such as ``"1bh"`` (business hours), ``"3bd"`` (business
        days), ``"7cd"`` (calendar days) or ``"24h"``. Default
        ``portal_social.feedback.sla.DEFAULT_POLICIES``: a first public reply
        in 1 business hour, a complaint acknowledged in 1 business day and
        resolved in 3, a grievance's written response in 7 calendar days. See
        docs/feedback.md.
        """
        return self._setting("FEEDBACK_SLA", None)

    @property
    def FEEDBACK_REFERENCE_PREFIX(self) -> str:
        """The letters before a case reference (``PX-2026-000123``). Default ``"PX"``."""
        value = str(self._setting("FEEDBACK_REFERENCE_PREFIX", "PX") or "PX").strip().upper()
        return value[:6] or "PX"

    @property
    def FEEDBACK_DUE_SOON_HOURS(self) -> int:
        """A deadline within this many hours puts a case in the workspace's "due soon" queue. Default 24."""
        return max(1, int(self._setting("FEEDBACK_DUE_SOON_HOURS", 24)))

    @property
    def WATCHED_WORDS(self) -> tuple[str, ...]:
        """Extra words or phrases that hold a comment for a moderator (profanity, slurs).

        Added to a small built-in list; matched case-insensitively as whole
        words. Default: none.
        """
        return _as_list(self._setting("WATCHED_WORDS", ()))

    @property
    def BUSINESS_CALENDAR(self) -> dict:
        """The default business calendar, for features that name no ``BusinessCalendar``.

        A dict with any of ``name``, ``time_zone`` (IANA name), ``country`` and
        ``subdivision`` (codes the ``holidays`` package supports; an empty
        country means no public holidays) and ``hours``, one entry per weekday
        ``"mon"`` … ``"sun"`` such as ``"08:00-12:00, 13:00-17:00"`` (a day
        left out is closed). Keys left out keep their default: Monday to
        Friday 09:00-17:00 in ``TIME_ZONE``, closed on US federal holidays.
        See docs/calendar.md.
        """
        return dict(self._setting("BUSINESS_CALENDAR", {}))

    @property
    def ORGANISATION_NAME(self) -> str:
        """The health system's name, shown in pages and notification emails.

        Default ``"Your health system"``.
        """
        return self._setting("ORGANISATION_NAME", "Your health system")

    @property
    def SMS_BACKEND(self) -> str:
        """The class that sends text-message notifications (``send(to, body)``), as a dotted path.

        Default ``""``: no text messages. Shipped:
        ``portal_social.core.sms.ConsoleBackend`` (prints, number masked) and
        ``portal_social.core.sms.LocmemBackend`` (tests) and
        ``portal_social.core.sms.FileBackend`` (one file per text in
        ``PORTAL_SOCIAL_SMS_FILE_PATH``). See docs/messaging.md.
        """
        return self._setting("SMS_BACKEND", "")

    @property
    def SMS_FILE_PATH(self) -> str:
        """The folder ``portal_social.core.sms.FileBackend`` writes each text to (one file per text).

        Default ``""``.
        """
        return str(self._setting("SMS_FILE_PATH", ""))


app_settings = AppSettings()
