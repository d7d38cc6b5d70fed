"""Websocket-rutter för kampanjerna: personalens sida och JA-signalen efter utloggning."""

from django.urls import URLPattern, path

from campaigns.consumers import CampaignConsumer, YesSignalConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/campaigns/<int:campaign_id>/", CampaignConsumer.as_asgi()),
    path("ws/campaigns/<int:campaign_id>/ja/", YesSignalConsumer.as_asgi()),
]
