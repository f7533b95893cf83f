from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def clinician_directory_url(context) -> str:
    """URL of the live clinician directory page, or "" when there is none."""
    from portal_social.profiles.models import ClinicianIndexPage

    request = context.get("request")
    cache = getattr(request, "_portal_social_directory_url", None) if request is not None else None
    if cache is not None:
        return cache
    page = ClinicianIndexPage.objects.live().first()
    url = page.get_url(request=request) or "" if page is not None else ""
    if request is not None:
        request._portal_social_directory_url = url
    return url
