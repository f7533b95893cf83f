"""Small view helpers shared by every feature."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from portal_social.core import roles


def role_required(*slugs: str):
    """Let through signed-in holders of any of ``slugs``; others get 404.

    Signed-out visitors are sent to sign in. A signed-in user without the
    role sees exactly what a missing page shows, so staff areas cannot be
    discovered by probing.
    """

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            # No pass for superusers: staff areas hold PHI, and reaching PHI takes a role.
            if not (roles.user_roles(request.user) & set(slugs)):
                raise Http404()
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
