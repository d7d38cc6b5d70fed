"""Basklassen för SMS-leverantörer, i stil med Djangos e-postbackends och django-anymail.

En backend har en enda metod, `send(to, text)`, som tar ett E.164-nummer och en text och
returnerar ett `SendResult`, eller kastar `SmsError` med ett svenskt meddelande och besked
om felet är permanent (fel nummer, fel inloggningsuppgifter: prova inte nästa leverantör)
eller tillfälligt (leverantören nere, 5xx, 429: prova nästa).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from time import monotonic
from typing import Any

import requests

from common.privacy import redact_phone_numbers
from common.smstext import analyse

# Felmeddelandet som personalen ser när inget SMS kunde skickas (klinikens specifikation).
SEND_FAILED_MESSAGE = "SMS kunde inte skickas - kontrollera API-inställningar"
# En anslutning till leverantören som legat oanvänd längre än så (sekunder) stängs före nästa
# SMS. En brandvägg eller NAT som glömt en tyst anslutning svarar aldrig: SMS:et skulle då
# vänta ut tidsgränsen och bli "osäkert". Inom en kampanj och vid täta SMS återanvänds den.
IDLE_CONNECTION_SECONDS = 30.0
# Beskedet när begäran skickades men inget svar kom: SMS:et kan ha gått iväg.
AMBIGUOUS_MESSAGE = (
    "Osäkert om SMS:et skickades: leverantören svarade inte i tid. "
    "Skicka inte igen förrän du vet att patienten inte fått det."
)


@dataclass(frozen=True)
class SendResult:
    """Vad leverantören svarade: vem som skickade, dess meddelande-id och antal delar."""

    provider: str
    message_id: str
    segments: int


class SmsError(Exception):
    """Ett SMS kunde inte skickas (eller vet inte om det skickades).

    `message` är svensk text för personalen, `reason` en kort teknisk orsak utan
    persondata (för audit-loggen). `permanent`: en annan leverantör vore meningslös (fel
    nummer, fel inloggning). `ambiguous`: begäran nådde leverantören men svaret uteblev
    (tidsgräns efter sändning) – SMS:et kan ha skickats, så ingen annan leverantör provas.
    """

    def __init__(
        self,
        message: str = SEND_FAILED_MESSAGE,
        *,
        permanent: bool,
        ambiguous: bool = False,
        provider: str = "",
        reason: str = "",
    ) -> None:
        """Sparar meddelande, orsak och felets slag."""
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.ambiguous = ambiguous
        self.provider = provider
        # Leverantörers felsvar kan eka numret: orsaken tvättas innan den loggas eller sparas.
        self.reason = redact_phone_numbers(reason or message)[:200]


class BaseBackend(ABC):
    """Gemensam grund för alla leverantörer."""

    #: Kort namn som används i SMS_PROVIDERS och i audit-loggen.
    name = "base"
    #: Sant om leverantören skickar leveransrapporter till portalens webhook.
    delivery_reports = False
    #: När leverantören senast anropades (time.monotonic()); -inf = aldrig.
    last_used = float("-inf")

    @abstractmethod
    def send(self, to: str, text: str) -> SendResult:
        """Skickar `text` till `to` (E.164) och returnerar leverantörens svar."""

    def check(self) -> str:
        """Kontrollerar inställningarna utan att skicka något; returnerar en kort svensk rad.

        Riktiga leverantörer frågar sitt API om inloggningsuppgifterna gäller och kastar
        `SmsError` annars. Backends utan nätverk har inget att kontrollera.
        """
        return "inget att kontrollera (skickar inga riktiga SMS)"

    def verify_webhook(self, request: Any) -> bool:
        """Sant om en leveransrapport verkligen kommer från leverantören (signatur eller token)."""
        return False

    def parse_delivery_report(self, request: Any) -> list[tuple[str, str]]:
        """Leveransrapportens (meddelande-id, DeliveryStatus-värde) – tom lista för mellanlägen."""
        return []

    def http_sessions(self) -> list[requests.Session]:
        """HTTP-sessionerna (med sina öppna anslutningar) som backenden skickar genom."""
        return []

    def drop_idle_connections(self) -> None:
        """Stänger sparade anslutningar som legat oanvända över IDLE_CONNECTION_SECONDS.

        Anropas före varje SMS; sessionen öppnar en ny anslutning när den behövs.
        """
        now = monotonic()
        if now - self.last_used > IDLE_CONNECTION_SECONDS:
            for session in self.http_sessions():
                session.close()
        self.last_used = now

    def result(self, message_id: str, text: str) -> SendResult:
        """Hjälp för underklasser: ett resultat med antal delar räknat ur texten."""
        return SendResult(provider=self.name, message_id=message_id, segments=analyse(text).segments)
