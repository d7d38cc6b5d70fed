"""Basklassen för SMS-leverantörer, i stil med Djangos e-postbackends och django-anymail.

En backend har en enda metod, `send(to, text)`, som tar ett E.164-nummer och en text och
returnerar ett `SendResult`, eller kastar `SmsError` med ett svenskt meddelande och besked
om felet är permanent (fel nummer, fel inloggningsuppgifter: prova inte nästa leverantör)
eller tillfälligt (leverantören nere, 5xx, 429: prova nästa).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from audit.services import redact_phone_numbers
from smsportal.smstext import analyse

# Felmeddelandet som personalen ser när inget SMS kunde skickas (klinikens specifikation).
SEND_FAILED_MESSAGE = "SMS kunde inte skickas - kontrollera API-inställningar"


@dataclass(frozen=True)
class SendResult:
    """Vad leverantören svarade: vem som skickade, dess meddelande-id och antal delar."""

    provider: str
    message_id: str
    segments: int


class SmsError(Exception):
    """Ett SMS kunde inte skickas.

    `message` är svensk text för personalen, `reason` en kort teknisk orsak utan
    persondata (för audit-loggen), `permanent` säger om en annan leverantör vore meningslös.
    """

    def __init__(
        self,
        message: str = SEND_FAILED_MESSAGE,
        *,
        permanent: bool,
        provider: str = "",
        reason: str = "",
    ) -> None:
        """Sparar meddelande, orsak och om felet är permanent."""
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.provider = provider
        # Leverantörers felsvar kan eka numret: orsaken tvättas innan den loggas eller sparas.
        self.reason = redact_phone_numbers(reason or message)[:200]


class BaseBackend(ABC):
    """Gemensam grund för alla leverantörer."""

    #: Kort namn som används i SMS_PROVIDERS och i audit-loggen.
    name = "base"

    @abstractmethod
    def send(self, to: str, text: str) -> SendResult:
        """Skickar `text` till `to` (E.164) och returnerar leverantörens svar."""

    def result(self, message_id: str, text: str) -> SendResult:
        """Hjälp för underklasser: ett resultat med antal delar räknat ur texten."""
        return SendResult(provider=self.name, message_id=message_id, segments=analyse(text).segments)
