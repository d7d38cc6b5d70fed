"""Websocket-rutter för hela portalen (apparna lägger till sina här)."""

from django.urls import URLPattern

from campaigns.routing import websocket_urlpatterns as campaign_urlpatterns

websocket_urlpatterns: list[URLPattern] = [*campaign_urlpatterns]
