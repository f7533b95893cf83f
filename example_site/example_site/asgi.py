"""ASGI entry point: HTTP through Django, websockets through channels."""

import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "example_site.settings.dev")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from portal_social.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)

# What is loaded by now (Django, Wagtail, the URLconf and every view module) lives as long as the process.
# Frozen, it is left out of the cyclic collector's full passes, which would otherwise walk it all (over
# 100 ms for this site) in the middle of whatever request or socket event triggered one.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018  import every view module now, not on the first request
gc.collect()
gc.freeze()
