"""Websocket routes. Hosts add these under their ASGI ``URLRouter``::

from portal_social.routing import websocket_urlpatterns
"""

from django.urls import path

from portal_social.core.realtime import PortalSocketConsumer

websocket_urlpatterns = [path("ws/portal-social/", PortalSocketConsumer.as_asgi())]
