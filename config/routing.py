"""Websocket-rutter för hela portalen (apparna lägger till sina här)."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
