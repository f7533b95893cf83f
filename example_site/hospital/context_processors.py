from portal_social.conf import app_settings
from portal_social.core import roles


def portal(request):
    user = getattr(request, "user", None)
    held = roles.user_roles(user) if user is not None else frozenset()
    return {
        "organisation_name": app_settings.ORGANISATION_NAME,
        "show_px_link": bool(held & {roles.PATIENT_EXPERIENCE, roles.RISK_MANAGER}),
        "show_cms_link": bool(user is not None and user.is_authenticated and (user.is_staff or user.is_superuser)),
    }
