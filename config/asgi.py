"""ASGI-ingång: HTTP via Django och websockets via Channels (daphne kör den här)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# Django måste vara uppsatt innan något som importerar modeller laddas.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.conf import settings  # noqa: E402

from config.concurrency import ConcurrencyLimit  # noqa: E402
from config.routing import websocket_urlpatterns  # noqa: E402
from config.websocket_origin import SameOriginValidator  # noqa: E402

application = ProtocolTypeRouter(
    {
        # HTTP: högst DATABASE_POOL_SIZE begäranden åt gången i Django (en per anslutning i poolen),
        # övriga väntar på sin tur.
        "http": ConcurrencyLimit(django_asgi_app, settings.DATABASE_POOL_SIZE),
        # Websockets: bara från portalens eget ursprung (schema, värd, port), med inloggad session.
        "websocket": SameOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
