"""The demo shows the portal's own "page not found" page, even with DEBUG on.

With ``DEBUG = True`` Django answers a 404 with its technical page (every URL
pattern, the settings module). The demo keeps DEBUG on for its conveniences
(static files served by Django, template errors shown), but a visitor who
meets a page they may not see, or one that does not exist, gets the same
``404.html`` a production portal shows. 403s already use ``403.html`` with
DEBUG on. Installed by the development settings only; with DEBUG off it does
nothing, and Django's ``handler404`` renders the same template.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import render


class PortalNotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if settings.DEBUG and isinstance(exception, Http404):
            return render(request, "404.html", {"request_path": request.path}, status=404)
        return None
