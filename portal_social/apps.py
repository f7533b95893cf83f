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
        from portal_social.core import account_events, rules  # noqa: F401
        from portal_social.profiles import reviews  # noqa: F401  (review access rules)

        account_events.connect()  # sign-in and account-security events in the audit trail
