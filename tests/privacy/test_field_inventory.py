"""Every text column of portal_social is encrypted, or listed here as public and clean by construction.

A new model or field that can hold text fails this test until someone
decides: encrypt it (``EncryptedTextField``), or add it below with the reason
it can never hold user-written PHI.
"""

from django.apps import apps
from django.db import models

from portal_social.core.crypto import EncryptedTextField

#: Models that never hold user-written text, whatever their columns.
CLEAR_MODELS = {
    # Written only by core.audit.record: ids, action codes, hashes and fixed
    # sentences; house rule 3 forbids PHI in it (the journey test dumps it too).
    "AuditEvent": "audit rows hold ids and codes, never user text",
    "AuditChainHead": "a sequence number and hashes",
}

#: ``Model.field`` stored in the clear, and why that is safe.
CLEAR_FIELDS = {
    # Directory taxonomies and practice sites: public, written by editors, about clinics.
    "Specialty.name": "public taxonomy, editors",
    "Specialty.slug": "public taxonomy, editors",
    "Condition.name": "public taxonomy, editors",
    "Condition.slug": "public taxonomy, editors",
    "Language.name": "public taxonomy, editors",
    "Language.slug": "public taxonomy, editors",
    "Location.name": "public practice site, editors",
    "Location.slug": "public practice site, editors",
    "Location.address": "public practice address, editors",
    "Location.phone": "public practice phone, editors",
    "Location.map_url": "public map link, editors",
    # Public profile pages: searched, filtered and ordered by the directory;
    # self-service text is PHI-screened before a revision is saved.
    "ClinicianIndexPage.intro": "public page text, editors",
    "ClinicianPage.first_name": "public profile, searched and ordered",
    "ClinicianPage.last_name": "public profile, searched and ordered",
    "ClinicianPage.credentials": "public profile, editors",
    "ClinicianPage.pronouns": "public profile, self-service screened",
    "ClinicianPage.bio": "public profile, searched, self-service screened",
    "ClinicianPage.education": "public profile, editors",
    "ClinicianPage.board_certifications": "public profile, searched, editors",
    "ClinicianPage.npi": "public identifier of the clinician, unique",
    # Written by code, never from user text.
    "Review.status": "a choice",
    "Review.hold_reasons": "codes and PHI kinds from screening",
    "Review.redactions": "character offsets and PHI kinds",
    "ReviewRating.question": "a key of PORTAL_SOCIAL_REVIEW_QUESTIONS",
    "BreakGlassGrant.target_id": "the primary key of the opened object",
    "Notification.key": "a registered template key",
    "Notification.params": "counts and declared choices only, checked by notify.clean_params",
    "Notification.status": "a choice",
    "Notification.last_error": "the class name of a delivery error, never its message",
    "NotificationPreference.frequency": "a choice",
    "RealtimeStream.key": "a keyed hash naming a stream",
    "SearchTerm.scope": "a registered search scope",
    "SearchTerm.object_id": "the primary key of the indexed object",
    "SearchTerm.part": "a fixed part name or a post's primary key",
    "SearchTerm.key_id": "a fingerprint of the key the terms are hashed under (the terms are keyed hashes)",
    "RealtimeEvent.payload": "what the socket sends: a kind and opaque ids, never content",
    # Business calendars: opening hours and holiday regions, written by portal administrators.
    "BusinessCalendar.name": "a calendar's name, administrators",
    "BusinessCalendar.slug": "a calendar's slug, administrators",
    "BusinessCalendar.time_zone": "an IANA time zone name, validated",
    "BusinessCalendar.country": "a country code, validated",
    "BusinessCalendar.subdivision": "a region code, validated",
    "BusinessCalendar.monday": "opening hours, validated",
    "BusinessCalendar.tuesday": "opening hours, validated",
    "BusinessCalendar.wednesday": "opening hours, validated",
    "BusinessCalendar.thursday": "opening hours, validated",
    "BusinessCalendar.friday": "opening hours, validated",
    "BusinessCalendar.saturday": "opening hours, validated",
    "BusinessCalendar.sunday": "opening hours, validated",
    "CalendarClosure.reason": 'why a site is closed ("snowstorm"), administrators; public on staff screens',
    # Watched words: moderation configuration written by moderators in the admin, never patient text.
    "WatchedWord.word": "a watched word, phrase or pattern, moderators",
    "WatchedWord.match": "a choice",
    "WatchedWord.action": "a choice",
    "WatchedWord.replacement": "what a censored word shows instead, moderators",
    "WatchedWord.destinations": "destination names, validated",
    # The moderation queue: which content waits and why, as codes and ids; the content stays in its own table.
    "ModerationItem.kind": "a registered content kind key",
    "ModerationItem.target_id": "the primary key of the queued content",
    "ModerationItem.status": "a choice",
    "ModerationItem.reviewer_permission": "a permission name copied from the registered kind",
    "ModerationItem.space": "a community or space slug from the content's location",
    "ModerationReason.code": "a registered reason code",
    "ModerationReason.details": "codes and ids only (PHI kinds, a flag's category, a report or appeal id)",
    # Communities: set up by staff; members' handles are public names they choose (no email, number or id).
    "Community.name": "editorial: staff name the community",
    "Community.slug": "derived from the name for URLs",
    "Community.kind": "a choice: patient community or clinician space",
    "Thread.referral_urgency": "a choice: routine, soon or urgent",
    "Community.description": "editorial: staff describe the community",
    "Community.guidelines": "editorial: staff write the guidelines",
    "Community.visibility": "a choice",
    "CommunityProfile.handle": "a public name the member chooses; emails, numbers and ids are refused",
    "Membership.role": "a choice",
    "Membership.status": "a choice",
    "Membership.source": "a choice",
    "Post.status": "a choice set by the community actions",
    "Post.hold_reasons": "codes and PHI kinds only",
    "Post.marks": "screening codes only",
    "Post.redactions": "character offsets and a PHI kind, never the hidden text",
    "PostFlag.reason": "a choice",
    "Membership.notifications": "a choice",
    "Reaction.kind": "a key from PORTAL_SOCIAL_COMMUNITY_REACTIONS, checked by the action",
    "Penalty.kind": "a choice",
    "MemberBadge.badge": "a key from PORTAL_SOCIAL_COMMUNITY_BADGES, set by the badge action",
    "CommunityPage.intro": "editorial: editors write the page around a community in the Wagtail admin",
    # Secure messaging: subjects and messages are encrypted; pools are care teams staff set up.
    "CarePool.name": "editorial: staff name the care team patients write to",
    "CarePool.slug": "derived from the name",
    "CarePool.description": "editorial: staff describe the care team",
    "Conversation.topic": "a key of PORTAL_SOCIAL_MESSAGING_TOPICS, checked by the action",
    "Conversation.status": "a choice",
    "Message.side": "a choice",
    "ReadState.side": "a choice",
    "Attachment.content_type": "detected from the file's bytes (core.files.sniff)",
    "PostFile.content_type": "detected from the file's bytes (core.files.sniff)",
    # Feedback: what people wrote is encrypted; configuration, codes, choices and references are clear.
    "Team.name": "editorial: administrators name patient-experience teams",
    "Team.slug": "derived from the name",
    "Category.name": "the feedback taxonomy, administrators",
    "Category.slug": "derived from the name",
    "ServiceLine.name": "an organisation's service line, administrators",
    "ServiceLine.slug": "derived from the name",
    "RoutingRule.name": "editorial: administrators name routing rules",
    "RoutingRule.min_severity": "a choice",
    "Case.reference": "numbered by the feedback actions (PX-2026-000123)",
    "Case.channel": "a choice",
    "Case.type": "a choice",
    "Case.severity": "a choice",
    "Case.contact_method": "a choice",
    "Case.platform": "a choice",
    "Case.source_type": "a model label",
    "Case.source_id": "a primary key",
    "Case.source_cause": "a signal's cause code",
    "Case.external_source": "an integration's configured name",
    "Case.external_id": "an integration's id for the item (checked: never free text a person wrote)",
    "Case.status": "a choice",
    "Case.risk_source": "a code",
    "Case.breaches": "clock codes",
    "Case.outcome": "a choice",
    "CaseEvent.kind": "a choice",
    "CaseEvent.details": "codes, ids and counts written by the feedback actions, never text",
    "RecoveryAction.kind": "a choice",
    "IntakeKey.name": "an integration's name, administrators",
    "IntakeKey.source": "an integration's slug, administrators",
    "IntakeKey.prefix": "the first characters of a key: not enough to use it",
    "IntakeKey.key_hash": "a SHA-256 hash of the key",
    "LetterTemplate.name": "editorial",
    "LetterTemplate.body": "editorial: the wording of grievance letters, with placeholders, never a patient's details",
    "ResponseTemplate.name": "editorial",
    "ResponseTemplate.use": "a choice",
    "ResponseTemplate.body": "a public reply, screened under the staff public-reply rules before it is saved",
    "GrievanceResponse.contact_person": "a staff member's name and work phone",
    "CaseAttachment.content_type": "detected from the file's bytes (core.files.sniff)",
    # Review invitations: the host's visits and what became of each.
    "Visit.encounter_digest": "keyed digest (HMAC) of the encounter id, which itself is encrypted",
    "Visit.clinician_npi": "a clinician's public NPI",
    "Visit.site": "a practice site's name, about a clinic",
    "ReviewInvitation.encounter_digest": "keyed digest (HMAC) of the encounter id; the id is not stored",
    "ReviewInvitation.clinician_npi": "a clinician's public NPI",
    "ReviewInvitation.site": "a practice site's name, about a clinic",
    "ReviewInvitation.status": "fixed choices",
    "ReviewInvitation.not_sent_reason": "fixed choices (never the service line)",
    "VisitPull.name": "fixed names",
}

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def _text_columns():
    for model in apps.get_app_config("portal_social").get_models():
        if not model._meta.managed or model.__name__ in CLEAR_MODELS:
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, TEXT_FIELDS):
                yield f"{model.__name__}.{field.name}", field


def test_every_text_column_is_encrypted_or_clean_by_construction():
    undecided = [
        name
        for name, field in _text_columns()
        if not isinstance(field, EncryptedTextField) and name not in CLEAR_FIELDS
    ]
    assert not undecided, f"encrypt these or list them in CLEAR_FIELDS with a reason: {undecided}"


def test_the_clear_list_names_only_existing_clear_columns():
    columns = dict(_text_columns())
    stale = [name for name in CLEAR_FIELDS if name not in columns or isinstance(columns[name], EncryptedTextField)]
    assert not stale, f"no longer clear text columns: {stale}"


def test_user_written_review_text_is_encrypted():
    columns = dict(_text_columns())
    for name in (
        "Review.comment_source",
        "Review.comment_html",
        "Review.rejection_reason",
        "ReviewResponse.body_source",
        "ReviewResponse.body_html",
        "ReviewAppeal.reason",
        "ReviewReport.reason",
        "BreakGlassGrant.reason",
        "CaregiverRelation.relationship",
        "ModerationReason.note",
    ):
        assert isinstance(columns[name], EncryptedTextField), name
