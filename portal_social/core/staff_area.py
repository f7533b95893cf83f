"""The Wagtail admin is a staff area: signed-in people without admin access get one clear page.

Wagtail's admin sends a signed-in user who lacks ``wagtailadmin.access_admin``
to ``WAGTAILADMIN_LOGIN_URL`` and queues "You do not have permission to access
the admin." The portal's login URL is allauth's sign-in, which sends a user who
is already signed in straight back to ``next``: the browser bounces between the
two until it gives up, and every bounce queues one more message.

Wrap the admin's URLs where you mount them::

    from portal_social.core.staff_area import staff_area

    path("cms/", include(staff_area(wagtailadmin_urls))),

Every URL under that prefix then answers a signed-in user without admin access
with the page ``portal_social/core/staff_area.html`` (status 403), before
Wagtail sees the request. That page lists the tools the user's roles do open
(``core.navigation.tools_for``), such as a clinician's own profile.
Signed-out visitors still go to the sign-in form, and users with admin access
reach the admin as before. The staff MFA gate runs
earlier, in middleware, so staff still meet their second factor first.
"""

from __future__ import annotations

from functools import update_wrapper

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

__all__ = ["ADMIN_PERMISSION", "TEMPLATE", "may_open_staff_area", "staff_area", "staff_area_refusal", "staff_only"]

#: The permission Wagtail's ``require_admin_access`` asks for.
ADMIN_PERMISSION = "wagtailadmin.access_admin"
TEMPLATE = "portal_social/core/staff_area.html"

_MARK = "_portal_social_staff_only"


def may_open_staff_area(user) -> bool:
    """True for signed-out visitors (Wagtail sends them to sign in) and for users with admin access."""
    return not user.is_authenticated or user.has_perms([ADMIN_PERMISSION])


def staff_area_refusal(request: HttpRequest) -> HttpResponse:
    """The one page a signed-in user without admin access sees: 403, no redirect, no message.

    It lists what the user may open instead (``tools``), so nobody is left at a dead end.
    """
    from portal_social.core import navigation

    return TemplateResponse(request, TEMPLATE, {"tools": navigation.tools_for(request.user, request)}, status=403)


def staff_only(view):
    """Wrap one view: refuse signed-in users without admin access before the view runs."""
    if getattr(view, _MARK, False):
        return view

    def wrapped(request, *args, **kwargs):
        if not may_open_staff_area(request.user):
            return staff_area_refusal(request)
        return view(request, *args, **kwargs)

    update_wrapper(wrapped, view)
    setattr(wrapped, _MARK, True)
    return wrapped


def _wrap_patterns(patterns) -> None:
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            _wrap_patterns(pattern.url_patterns)
        if getattr(pattern, "callback", None):
            pattern.callback = staff_only(pattern.callback)


def staff_area(urlconf):
    """Return ``urlconf`` (a module or a list of URL patterns) with every view wrapped by :func:`staff_only`.

    Safe to call more than once; views already wrapped are left alone.
    """
    patterns = getattr(urlconf, "urlpatterns", urlconf)
    _wrap_patterns(patterns)
    return urlconf
