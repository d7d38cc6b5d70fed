"""Backend för tester: SMS hamnar i `outbox` i minnet, som Djangos locmem-e-post."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from smsportal.backends.base import BaseBackend, SendResult


@dataclass(frozen=True)
class OutboxMessage:
    """Ett SMS som testerna kan granska."""

    to: str
    text: str
    message_id: str


#: Skickade SMS i den här processen (töms av testernas fixtur).
outbox: list[OutboxMessage] = []
_ids = itertools.count(1)


class LocmemBackend(BaseBackend):
    """Skickar inget: sparar SMS:et i `outbox`."""

    name = "locmem"

    def send(self, to: str, text: str) -> SendResult:
        """Lägger SMS:et i utkorgen och returnerar ett påhittat meddelande-id."""
        message_id = f"locmem-{next(_ids)}"
        outbox.append(OutboxMessage(to=to, text=text, message_id=message_id))
        return self.result(message_id, text)
