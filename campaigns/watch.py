"""Bevakningsnyckeln: en öppen kampanjsida fortsätter att meddela nya JA när sessionen tagit slut.

Kampanjsidan får nyckeln när den visas för inloggad personal (bara för en öppen kampanj).
Efter utloggning (inaktivitet, utloggning i en annan flik) öppnar sidan med den en egen
websocket (`campaigns.consumers.YesSignalConsumer`) som bara säger hur många som svarat JA,
aldrig vem. Nyckeln gäller en enda kampanj och ett enda personalkonto, högst en arbetsdag
(SESSION_COOKIE_AGE), och bara medan kontot är aktivt; websocketen stängs när kampanjen
tillsätts, avslutas, passerar eller raderas.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing

SALT = "campaigns.watch"


def watch_token(campaign_id: int, user_id: Any) -> str:
    """En signerad nyckel för kampanjens JA-signal, bunden till kampanjen och kontot."""
    return signing.dumps({"campaign": int(campaign_id), "user": int(user_id)}, salt=SALT)


def token_is_valid(token: Any, campaign_id: int) -> bool:
    """Sant om nyckeln är äkta, inte för gammal, gäller just den kampanjen och kontot är aktivt."""
    if not isinstance(token, str):
        return False
    try:
        data = signing.loads(token, salt=SALT, max_age=settings.SESSION_COOKIE_AGE)
    except signing.BadSignature:
        return False
    if not isinstance(data, dict) or data.get("campaign") != int(campaign_id):
        return False
    user_id = data.get("user")
    if not isinstance(user_id, int):
        return False
    return get_user_model().objects.filter(pk=user_id, is_active=True).exists()
