"""Den enda vägen ut för ett SMS: `send_sms()`. Alla delar av portalen går hit.

Leverantörerna i SMS_PROVIDERS provas i ordning. Ett tillfälligt fel (går inte att nå,
5xx, 429) går vidare till nästa; ett permanent fel (ogiltigt nummer, fel inloggning)
avbryter direkt.

Regeln för tidsgräns efter att begäran skickats: svaret är okänt, SMS:et kan ha gått
iväg. Det är varken tyst förlorat eller tyst skickat två gånger: ingen annan leverantör
provas, felet markeras som osäkert (`SmsError.ambiguous`), personalen får beskedet att
inte skicka igen förrän de vet, sändsidan visar försöket som "osäkert" under "Dina
senaste SMS" och audit-loggen får status "osäkert" (det räknas mot kvoten).

Loggarna innehåller aldrig numret eller texten.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from smsportal.backends.base import BaseBackend, SendResult, SmsError
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile

logger = logging.getLogger(__name__)

#: Kort namn i SMS_PROVIDERS -> backendklass.
BACKENDS = {
    "sinch": "smsportal.backends.sinch.SinchBackend",
    "twilio": "smsportal.backends.twilio.TwilioBackend",
    "elks46": "smsportal.backends.elks46.Elks46Backend",
    "console": "smsportal.backends.console.ConsoleBackend",
    "locmem": "smsportal.backends.locmem.LocmemBackend",
}


def get_backend(name: str) -> BaseBackend:
    """En leverantör efter kort namn (eller sökväg till klass, för tester).

    Saknade inloggningsuppgifter ger ImproperlyConfigured med ett svenskt besked.
    """
    path = BACKENDS.get(name, name)
    if "." not in path:
        known = ", ".join(BACKENDS)
        raise ImproperlyConfigured(f"Okänd SMS-leverantör {name!r} i SMS_PROVIDERS (kända: {known}).")
    return import_string(path)()


def get_backends() -> list[BaseBackend]:
    """Leverantörerna i failover-ordning enligt SMS_PROVIDERS."""
    return [get_backend(name) for name in settings.SMS_PROVIDERS]


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
            if error.permanent or error.ambiguous:
                # Permanent: nästa leverantör skulle svara likadant. Osäkert: SMS:et kan ha
                # gått iväg, och en annan leverantör skulle då skicka det en gång till.
                raise
            last_error = error
            continue
        logger.info("SMS skickat via %s (%d del(ar))", result.provider, result.segments)
        return result
    raise last_error or SmsError(permanent=False, reason="ingen leverantör konfigurerad")
