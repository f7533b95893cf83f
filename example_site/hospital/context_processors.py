from portal_social.conf import app_settings


def portal(request):
    """What every page of the demo portal shows: the organisation's name.

    Each person's tools (staff screens, a clinician's own profile) come from
    portal_social's navigation, through ``{% portal_social_tools %}`` in base.html.
    """
    return {"organisation_name": app_settings.ORGANISATION_NAME}
