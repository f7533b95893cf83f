"""Template tags for the portal's chrome: the package stylesheet and each person's tools.

``{% portal_social_stylesheet %}`` writes the ``<link>`` to the package's
stylesheet once per page, however many templates in the inheritance chain ask
for it: a host's ``base.html`` may link it in its ``<head>`` (before its own
stylesheet, so its overrides come last) and ``portal_social/base.html`` links
it again through the ``extra_head`` block for hosts that do not.

``{% portal_social_tools as tools %}`` gives the :class:`~portal_social.core.navigation.NavLink`
list of :func:`portal_social.core.navigation.tools_for` for the signed-in user.
"""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from portal_social.core import navigation

register = template.Library()

#: The stylesheet every portal_social page needs, relative to STATIC_URL.
STYLESHEET = "portal_social/css/portal_social.css"

_LINKED = "portal_social_stylesheet_linked"


@register.simple_tag(takes_context=True)
def portal_social_stylesheet(context) -> str:
    """``<link rel="stylesheet">`` to the package stylesheet, the first time a page asks for it."""
    # render_context is shared by a template and every template it extends,
    # so a host base and portal_social/base.html emit one link between them.
    if context.render_context.get(_LINKED):
        return ""
    context.render_context[_LINKED] = True
    return format_html('<link rel="stylesheet" href="{}">', static(STYLESHEET))


@register.simple_tag(takes_context=True)
def portal_social_tools(context) -> list[navigation.NavLink]:
    """The tools the signed-in user's roles open (an empty list for everyone else)."""
    user = context.get("user")
    request = context.get("request")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return navigation.tools_for(user, request)


@register.simple_tag(takes_context=True)
def portal_social_unread_messages(context) -> int:
    """How many secure conversations hold messages the signed-in user has not read (0 for everyone else).

    Two queries at most, once per request: ``{% portal_social_unread_messages as unread %}``.
    """
    user = context.get("user")
    request = context.get("request")
    if user is None and request is not None:
        user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return 0
    from portal_social.messaging.views import unread_count

    return unread_count(user)
