"""Websocket-rutter för hela portalen (apparna lägger till sina här).

Sist en rutt för alla andra sökvägar: en websocket till en adress som inte är en websocket
(`/ws/nope/`, `/s/<kod>`, en personalsida) vägras före accept, som fel ursprung. Utan den kastar
Channels ValueError ("No route found"): en 500, ett felmejl till IT och sökvägen, med en
patients svarskod, i loggen.
"""

from channels.security.websocket import WebsocketDenier
from django.urls import URLPattern, re_path

from campaigns.routing import websocket_urlpatterns as campaign_urlpatterns

websocket_urlpatterns: list[URLPattern] = [*campaign_urlpatterns, re_path(r"", WebsocketDenier.as_asgi())]
