"""Den enda vägen ut för ett SMS: `send_and_record()`. Alla delar av portalen går hit.

Andra appar importerar bara härifrån när de skickar: felet (`SmsError`), resultaten
(`SendResult`, `Outcome`), syftena (`Purpose`) och funktionen. `send_and_record()` sparar
försöket i SMS-registret före anropet, skickar med `send_sms()`, fångar felet på ett ställe,
ger försöket sitt utfall (`outcome_status`: en enda regel från fel till utfall) och skriver
en rad i audit-loggen (utom för kampanjens SMS, som kampanjen själv loggar).

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
import os
import threading
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from audit.models import Action
from audit.services import record
from smsportal.backends.base import AMBIGUOUS_MESSAGE, SEND_FAILED_MESSAGE, BaseBackend, SendResult, SmsError
from smsportal.ledger import begin_attempt, complete_attempt
from smsportal.models import AttemptStatus, Purpose, SendAttempt
from smsportal.phone import InvalidPhoneNumber, parse_swedish_mobile

__all__ = [
    "AMBIGUOUS_MESSAGE",
    "SEND_FAILED_MESSAGE",
    "AttemptStatus",
    "Outcome",
    "Purpose",
    "SendResult",
    "SmsError",
    "begin_attempt",
    "outcome_status",
    "send_and_record",
]

logger = logging.getLogger(__name__)

#: Audit-händelsen för varje utfall.
AUDIT_ACTIONS = {
    AttemptStatus.SENT: Action.SMS_SENT,
    AttemptStatus.FAILED: Action.SMS_FAILED,
    AttemptStatus.UNCERTAIN: Action.SMS_UNCERTAIN,
}
#: Kampanjens SMS loggas av kampanjen själv (skapad, tillsatt, raderad), inte ett och ett.
UNAUDITED_PURPOSES = frozenset({Purpose.CAMPAIGN})

#: Kort namn i SMS_PROVIDERS -> backendklass.
BACKENDS = {
    "sinch": "smsportal.backends.sinch.SinchBackend",
    "twilio": "smsportal.backends.twilio.TwilioBackend",
    "elks46": "smsportal.backends.elks46.Elks46Backend",
    "console": "smsportal.backends.console.ConsoleBackend",
    "locmem": "smsportal.backends.locmem.LocmemBackend",
}


def build_backend(name: str) -> BaseBackend:
    """En ny leverantör efter kort namn (eller sökväg till klass, för tester).

    Saknade inloggningsuppgifter ger ImproperlyConfigured med ett svenskt besked.
    """
    path = BACKENDS.get(name, name)
    if "." not in path:
        known = ", ".join(BACKENDS)
        raise ImproperlyConfigured(f"Okänd SMS-leverantör {name!r} i SMS_PROVIDERS (kända: {known}).")
    return import_string(path)()


class _BackendCache(threading.local):
    """Tråden byggda leverantörer, så att anslutningen till leverantören återanvänds mellan SMS.

    Per tråd (en `requests.Session` delas inte mellan trådar) och per process: en process som
    startats med fork (django-q2:s arbetsprocesser) bygger egna och delar aldrig förälderns
    anslutningar. Nollställs när inställningarna ändras (`forget_backends`).
    """

    def __init__(self) -> None:
        """Tom cache för tråden."""
        self.key: tuple[int, int] = (0, 0)
        self.backends: dict[str, BaseBackend] = {}


_cache = _BackendCache()
# Räknas upp när inställningarna ändras (tester med override_settings): då byggs allt om.
_generation = 0


def get_backend(name: str) -> BaseBackend:
    """Leverantören efter kort namn, byggd en gång per tråd och process och sedan återanvänd."""
    key = (os.getpid(), _generation)
    if _cache.key != key:
        _cache.key, _cache.backends = key, {}
    backend = _cache.backends.get(name)
    if backend is None:
        backend = _cache.backends[name] = build_backend(name)
    return backend


def forget_backends(**kwargs: Any) -> None:
    """Glömmer byggda leverantörer i alla trådar (Djangos signal `setting_changed`)."""
    global _generation
    _generation += 1


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
            backend.drop_idle_connections()
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


@dataclass(frozen=True)
class Outcome:
    """Utfallet av ett sändförsök: registrets rad, och leverantörens svar eller felet."""

    attempt: SendAttempt
    result: SendResult | None = None
    error: SmsError | None = None

    @property
    def status(self) -> AttemptStatus:
        """Skickat, misslyckat eller osäkert (som i registret)."""
        return AttemptStatus(self.attempt.status)

    @property
    def sent(self) -> bool:
        """Sant om leverantören tog emot SMS:et."""
        return self.result is not None

    @property
    def retryable(self) -> bool:
        """Sant när alla leverantörer var tillfälligt nere: ett nytt försök senare är ofarligt."""
        return self.error is not None and not self.error.permanent and not self.error.ambiguous

    @property
    def message(self) -> str:
        """Beskedet till personalen när SMS:et inte skickades (tomt annars)."""
        return self.error.message if self.error is not None else ""


def outcome_status(error: SmsError) -> AttemptStatus:
    """Den enda regeln från fel till utfall: osäkert om SMS:et kan ha gått iväg, annars misslyckat.

    Ett tillfälligt fel blir också "misslyckat" för just det försöket; den som vill försöka
    igen (kampanjer, aviseringar) ser det i `Outcome.retryable` och gör ett nytt försök.
    """
    return AttemptStatus.UNCERTAIN if error.ambiguous else AttemptStatus.FAILED


def send_and_record(to: str, text: str, *, attempt: SendAttempt | None = None, **fields: Any) -> Outcome:
    """Skickar ett SMS och sparar utfallet i SMS-registret (och audit-loggen); kastar aldrig `SmsError`.

    `attempt` är ett försök som redan sparats som `pending` (envägs-SMS reserverar det under
    kvotens lås); annars skapas det här av `fields` (purpose, actor, actor_username, category,
    template_title, edited, campaign_id, idempotency_key; se `begin_attempt`).
    """
    if attempt is None:
        attempt = begin_attempt(**fields)
    try:
        result = send_sms(to, text)
    except SmsError as error:
        complete_attempt(attempt, outcome_status(error), reason=error.reason, provider=error.provider)
        _audit(attempt)
        return Outcome(attempt=attempt, error=error)
    complete_attempt(
        attempt,
        AttemptStatus.SENT,
        provider=result.provider,
        provider_message_id=result.message_id,
        segments=result.segments,
    )
    _audit(attempt)
    return Outcome(attempt=attempt, result=result)


def _audit(attempt: SendAttempt) -> None:
    """Audit-loggens rad för det färdiga försöket (en rad, aldrig ändrad); hänvisar till registret."""
    if attempt.purpose in UNAUDITED_PURPOSES:
        return
    data: dict[str, Any] = {"sms": attempt.pk}
    if attempt.campaign_id:
        data["kampanj"] = attempt.campaign_id
    record(
        AUDIT_ACTIONS[AttemptStatus(attempt.status)],
        actor=attempt.actor,
        actor_username=attempt.actor_username,
        status=attempt.get_status_display(),
        reason=attempt.reason,
        category=attempt.category,
        template_title=attempt.template_title,
        edited=attempt.edited,
        segments=attempt.segments,
        provider=attempt.provider,
        data=data,
    )
