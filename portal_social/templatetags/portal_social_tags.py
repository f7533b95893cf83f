from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def clinician_directory_url(context) -> str:
    """URL of the live clinician directory page, or "" when there is none."""
    from portal_social.profiles.directory import directory_url

    return directory_url(context.get("request"))
