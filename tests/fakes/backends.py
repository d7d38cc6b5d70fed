"""Testbackends som beter sig som leverantörer med fel (för sändsidans felvägar)."""

from __future__ import annotations

from smsportal.backends.base import BaseBackend, SendResult, SmsError


class DownBackend(BaseBackend):
    """En leverantör som inte svarar (tillfälligt fel: nästa leverantör provas)."""

    name = "nere"

    def send(self, to: str, text: str) -> SendResult:
        """Kastar alltid ett tillfälligt fel."""
        raise SmsError(permanent=False, provider=self.name, reason="anslutningen nekades")


class RejectingBackend(BaseBackend):
    """En leverantör som vägrar (permanent fel, t.ex. fel inloggningsuppgifter)."""

    name = "vagrar"

    def send(self, to: str, text: str) -> SendResult:
        """Kastar ett permanent fel vars orsak ekar numret, som en del leverantörer gör."""
        raise SmsError(permanent=True, provider=self.name, reason=f"401 obehörig för {to}")


class SlowBackend(BaseBackend):
    """En långsam leverantör (0,3 s per SMS) som räknar sina sändningar, för samtidighetstester."""

    name = "langsam"
    sent: list[str] = []

    def send(self, to: str, text: str) -> SendResult:
        """Väntar en stund och noterar sändningen."""
        import time

        time.sleep(0.3)
        SlowBackend.sent.append(to)
        return self.result(f"langsam-{len(SlowBackend.sent)}", text)


class AmbiguousBackend(BaseBackend):
    """En leverantör som tog emot begäran men aldrig svarade (tidsgräns efter sändning)."""

    name = "tyst"

    def send(self, to: str, text: str) -> SendResult:
        """Kastar ett osäkert fel."""
        from smsportal.backends.base import AMBIGUOUS_MESSAGE

        raise SmsError(AMBIGUOUS_MESSAGE, permanent=False, ambiguous=True, provider=self.name, reason="läs-tidsgräns")
