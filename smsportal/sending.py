"""Den enda vägen ut för ett SMS: `send_sms()`. Alla delar av portalen går hit.

Leverantörerna i SMS_PROVIDERS provas i ordning. Ett tillfälligt fel (nere, 5xx, 429)
går vidare till nästa; ett permanent fel (ogiltigt nummer, fel inloggning) avbryter direkt.
Loggarna innehåller aldrig numret eller texten.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from smsportal.backends.base import BaseBackend, SendResult, SmsError
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile

logger = logging.getLogger(__name__)

#: Kort namn i SMS_PROVIDERS -> backendklass.
BACKENDS = {
    "console": "smsportal.backends.console.ConsoleBackend",
    "locmem": "smsportal.backends.locmem.LocmemBackend",
}


def get_backends() -> list[BaseBackend]:
    """Leverantörerna i failover-ordning enligt SMS_PROVIDERS (kort namn eller sökväg till klass)."""
    backends = []
    for name in settings.SMS_PROVIDERS:
        path = BACKENDS.get(name, name)
        if "." not in path:
            raise SmsError(permanent=True, reason=f"okänd leverantör {name!r} i SMS_PROVIDERS")
        backends.append(import_string(path)())
    return backends


def send_sms(to: str, text: str) -> SendResult:
    """Skickar ett SMS till ett svenskt mobilnummer (E.164) genom första fungerande leverantör."""
    try:
        to = parse_swedish_mobile(to)
    except InvalidPhoneNumber as error:
        raise SmsError(str(error), permanent=True, reason="ogiltigt nummer") from None
    if not text.strip():
        raise SmsError("Meddelandet är tomt.", permanent=True, reason="tom text")

    last_error: SmsError | None = None
    for backend in get_backends():
        try:
            result = backend.send(to, text)
        except SmsError as error:
            logger.warning("SMS via %s misslyckades: %s", backend.name, error.reason)
            if error.permanent:
                raise
            last_error = error
            continue
        logger.info("SMS skickat via %s (%d del(ar))", result.provider, result.segments)
        return result
    raise last_error or SmsError(permanent=False, reason="ingen leverantör konfigurerad")
