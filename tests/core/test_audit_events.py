"""Audit action names come from ``core.audit_events``, one function per event type."""

import ast
import uuid
from pathlib import Path

import pytest

import portal_social
from portal_social.core import audit, audit_events, roles
from portal_social.core.models import AuditEvent

PACKAGE = Path(portal_social.__file__).parent

#: Where the low-level writer and the event functions live.
WRITERS = {"core/audit/writing.py", "core/audit_events.py"}

#: Python files whose events must all go through ``audit_events`` functions.
CONVERTED = [
    "core/audit/__init__.py",
    "core/audit/chain.py",
    "core/audit/guard.py",
    "core/audit/keys.py",
    "core/access.py",
    "core/audit_views.py",
    "core/account_events.py",
    "core/accounts.py",
    "core/breakglass.py",
    "core/roles.py",
    "core/crypto.py",
    "core/mfa.py",
    "management/commands/portal_social_rotate_keys.py",
    "management/commands/portal_social_audit.py",
]


def _is_audit_record(call: ast.Call) -> bool:
    """``audit.record(...)``, ``core.audit.record(...)`` or ``record(...)`` imported from the audit module."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "record":
        owner = func.value
        return (isinstance(owner, ast.Name) and owner.id == "audit") or (
            isinstance(owner, ast.Attribute) and owner.attr == "audit"
        )
    return False


def _imports_record_by_name(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and (node.module or "").endswith("audit")
        and any(alias.name == "record" for alias in node.names)
        for node in ast.walk(tree)
    )


def _record_calls(path: Path) -> list[tuple[int, ast.expr | None]]:
    """Every call of the low-level writer in ``path``: (line, the action argument)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    by_name = _imports_record_by_name(tree)
    calls = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if not (_is_audit_record(node) or (by_name and isinstance(node.func, ast.Name) and node.func.id == "record")):
            continue
        action = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg == "action"), None)
        calls.append((node.lineno, action))
    return calls


def _package_files():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative not in WRITERS:
            yield relative, path


def test_every_action_written_anywhere_is_a_registered_event_type():
    unregistered, unnamed = [], []
    for relative, path in _package_files():
        for line, action in _record_calls(path):
            if isinstance(action, ast.Constant) and isinstance(action.value, str):
                if action.value not in audit_events.EVENT_TYPES:
                    unregistered.append(f"{relative}:{line} {action.value!r}")
            else:
                unnamed.append(f"{relative}:{line}")
    assert not unregistered, f"audit actions missing from audit_events.EVENT_TYPES: {unregistered}"
    assert not unnamed, f"audit.record called without a literal action name (use audit_events): {unnamed}"


def test_the_scan_sees_calls_it_must_judge(tmp_path):
    """The scanner is not blind: it finds each way of calling the writer."""
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from portal_social.core import audit\n"
        "from portal_social.core.audit import record\n"
        "import portal_social.core.audit\n"
        "audit.record('made.up')\n"
        "record(action='also.made.up')\n"
        "portal_social.core.audit.record(name)\n"
    )
    found = _record_calls(sample)
    assert [line for line, _action in found] == [4, 5, 6]
    assert [getattr(action, "value", None) for _line, action in found] == ["made.up", "also.made.up", None]


@pytest.mark.parametrize("relative", CONVERTED)
def test_converted_modules_write_events_only_through_event_functions(relative):
    calls = _record_calls(PACKAGE / relative)
    assert not calls, f"{relative} calls audit.record directly at lines {[line for line, _ in calls]}"


def test_every_event_type_has_a_label_and_a_known_severity():
    labels = [str(label) for label in audit_events.EVENT_TYPES.values()]
    assert all(labels) and len(set(labels)) == len(labels)
    assert set(audit_events.EVENT_TYPES) == set(audit_events.REGISTRY)
    for event_type in audit_events.REGISTRY.values():
        assert event_type.severity in audit.Severity.values
        assert len(event_type.name) <= 64  # the action column
    assert audit_events.EVENT_TYPES["review.appeal"] == "Review appealed by clinician"
    assert audit_events.label("review.appeal") == "Review appealed by clinician"
    assert audit_events.label("legacy.action") == "legacy.action"


def test_an_event_type_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="twice"):
        audit_events._register("review.appeal", "Again")


def test_the_events_profiles_and_caregivers_need_exist():
    for name in (
        "review_submitted",
        "review_approved",
        "review_rejected",
        "review_redacted",
        "review_appealed",
        "appeal_resolved",
        "review_responded",
        "review_reported",
        "profile_changes_submitted",
        "caregiver_linked",
        "caregiver_unlinked",
        "phi_read",
        "keys_rotated",
    ):
        assert callable(getattr(audit_events, name)), name


class _Review:
    class _meta:
        label_lower = "portal_social.review"

    def __init__(self, author_id):
        self.pk = uuid.uuid4()
        self.author_id = author_id


@pytest.mark.django_db
def test_review_events_name_the_review_and_its_author_as_patient(make_user):
    clinician, author = make_user(roles.CLINICIAN), make_user(roles.PATIENT)
    review = _Review(author.pk)
    event = audit_events.review_appealed(actor=clinician, review=review, details={"appeal": "a1"})
    assert event.action == "review.appeal"
    assert event.severity == "info"
    assert (event.target_type, event.target_id) == ("portal_social.review", str(review.pk))
    assert event.patient_id == author.pk and event.actor_id == clinician.pk
    assert event.details == {"appeal": "a1"}


@pytest.mark.django_db
def test_queue_view_names_the_patient_and_the_items_and_reviews_shown(make_user):
    from portal_social.core.moderation import events as moderation_events
    from portal_social.core.moderation.models import ModerationItem

    moderator, author = make_user(roles.COMMUNITY_MODERATOR), make_user(roles.PATIENT)
    reviews = [_Review(author.pk), _Review(author.pk)]
    shown = [ModerationItem(kind="review", target_id=str(review.pk), author_id=author.pk) for review in reviews]
    event = moderation_events.queue_viewed(actor=moderator, items=shown, patient=author.pk)
    assert event.action == "moderation.view" and event.patient_id == author.pk
    assert event.actor_id == moderator.pk
    assert (event.target_type, event.target_id) == ("portal_social.moderationitem", "")
    assert event.details == {
        "items": [str(item.pk) for item in shown],
        "targets": {"review": [str(review.pk) for review in reviews]},
    }
    one = moderation_events.queue_viewed(actor=moderator, items=shown[:1], patient=author.pk)
    assert (one.target_type, one.target_id) == ("portal_social.moderationitem", str(shown[0].pk))
    assert one.patient_id == author.pk
    assert one.details == {"items": [str(shown[0].pk)], "targets": {"review": [str(reviews[0].pk)]}}


def test_the_queue_events_are_registered_and_old_review_queue_rows_keep_their_label():
    for name in (
        "moderation.queue",
        "moderation.flag",
        "moderation.claim",
        "moderation.release",
        "moderation.escalate",
        "moderation.ignore",
        "moderation.view",
    ):
        assert name in audit_events.REGISTRY, name
    assert audit_events.label("moderation.view") == "Moderation queue opened"
    assert audit_events.label("review.moderation_view") == "Review moderation queue opened"


@pytest.mark.django_db
def test_role_and_lockout_events_keep_their_severities(make_user):
    admin, user = make_user(roles.PORTAL_ADMINISTRATOR), make_user()
    granted = audit_events.role_granted(actor=admin, user=user, role=roles.CLINICIAN)
    assert (granted.action, granted.severity, granted.target_id) == ("role.grant", "notice", str(user.pk))
    assert granted.details == {"role": roles.CLINICIAN}
    spraying = audit_events.sign_in_locked_out(actor=None, account=None, rule="accounts_per_address")
    limited = audit_events.sign_in_locked_out(actor=None, account=user, rule="failed_sign_ins")
    assert (spraying.severity, limited.severity) == ("high", "notice")
    assert limited.details == {"rule": "failed_sign_ins", "known_account": True}
    assert AuditEvent.objects.filter(action="auth.lockout").count() == 2
