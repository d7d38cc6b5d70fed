"""Websocket-rutter för kampanjerna."""

from django.urls import URLPattern, path

from campaigns.consumers import CampaignConsumer

websocket_urlpatterns: list[URLPattern] = [
    path("ws/campaigns/<int:campaign_id>/", CampaignConsumer.as_asgi()),
]
