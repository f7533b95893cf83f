from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalSocialConfig(AppConfig):
    name = "portal_social"
    label = "portal_social"
    verbose_name = _("Portal social")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers system checks, signal receivers and access rules.
        from portal_social import checks, signals  # noqa: F401
        from portal_social.community import actions as _community  # noqa: F401  (rules, queue kind, stream)
        from portal_social.core import account_events, realtime, rules  # noqa: F401
        from portal_social.feedback import actions as _feedback  # noqa: F401  (rules, stream, notifications)
        from portal_social.feedback import receivers as _feedback_receivers  # noqa: F401
        from portal_social.messaging import actions as _messaging  # noqa: F401  (rules, streams, notifications)
        from portal_social.profiles import reviews  # noqa: F401  (review access rules)

        account_events.connect()  # sign-in and account-security events in the audit trail
        realtime.connect()  # signing out closes that session's live sockets

        from portal_social.profiles import directory

        directory.connect()  # the remembered directory address is forgotten when the page tree changes

        from portal_social.community.actions import space_groups

        space_groups.connect()  # clinician spaces follow their department groups

        from portal_social.profiles.actions import defer_workflow_submission_emails

        # Wagtail's "submitted for approval" emails wait for the submission to commit.
        defer_workflow_submission_emails()

        self._connect_second_factor()

    @staticmethod
    def _connect_second_factor() -> None:
        try:
            from allauth.mfa.signals import authenticator_added
        except ImportError:  # pragma: no cover - a system check reports missing allauth.mfa
            return
        from portal_social.core.second_factor import record_enrolment

        authenticator_added.connect(record_enrolment, dispatch_uid="portal_social_second_factor_enrolment")
