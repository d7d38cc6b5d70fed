"""Webhooks för leveransrapporter: /webhooks/sms/<leverantör>/.

CSRF-undantagna (leverantörerna har ingen CSRF-token) men autentiserade: varje backend
kontrollerar sin signatur eller hemliga token. Fel signatur ger 403 och ändrar ingenting.
Kroppen loggas aldrig (den kan innehålla mottagarens nummer).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from smsportal.delivery import URL_SLUGS, receive_report
from smsportal.sending import BACKENDS, get_backend

logger = logging.getLogger(__name__)

#: Namnet i adressen -> namnet i SMS_PROVIDERS (46elks -> elks46).
_PROVIDER_BY_SLUG = {slug: name for name, slug in URL_SLUGS.items()}


@csrf_exempt
@require_POST
def delivery_report(request: HttpRequest, provider: str) -> HttpResponse:
    """Tar emot en leveransrapport; 403 vid fel signatur, 404 för leverantörer utanför SMS_PROVIDERS."""
    name = _PROVIDER_BY_SLUG.get(provider, provider)
    if URL_SLUGS.get(name, name) != provider or name not in BACKENDS or name not in settings.SMS_PROVIDERS:
        return HttpResponse(status=404)
    try:
        backend = get_backend(name)
    except (ImproperlyConfigured, ImportError):
        return HttpResponse(status=404)
    if not backend.delivery_reports:
        return HttpResponse(status=404)
    if _too_big(request):
        return HttpResponse(status=413)
    if not backend.verify_webhook(request):
        logger.warning("Leveransrapport från %s med fel eller saknad signatur avvisad", name)
        return HttpResponse(status=403)
    changed = sum(
        receive_report(name, message_id, status) for message_id, status in backend.parse_delivery_report(request)
    )
    logger.info("Leveransrapport från %s: %d ny(a) status(ar)", name, changed)
    return HttpResponse(status=200)


def _too_big(request: HttpRequest) -> bool:
    """Sant om kroppen är större än DATA_UPLOAD_MAX_MEMORY_SIZE.

    Django läser kroppen med gränsen (även utan Content-Length) och sparar den, så
    signaturkontrollen och tolkningen efteråt läser samma byte. Utan den här kontrollen
    skulle en för stor kropp se ut som ett oläsbart formulär (Twilio 403, 46elks 200).
    """
    try:
        request.body
    except RequestDataTooBig:
        return True
    return False
