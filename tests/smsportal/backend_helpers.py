"""Gemensamma hjälpfunktioner för testerna av leverantörsbackends (46elks, Twilio)."""

from __future__ import annotations

import pytest

from smsportal.backends.base import BaseBackend, SmsError
from tests.privacy import leaks, phone_forms


def expect_send_error(backend: BaseBackend, to: str, text: str, *, provider: str, phone: str) -> SmsError:
    """Skickar och returnerar felet som måste uppstå; orsaken får varken ha numret eller texten."""
    with pytest.raises(SmsError) as excinfo:
        backend.send(to, text)
    assert excinfo.value.provider == provider
    assert leaks([*phone_forms(phone), text], orsak=excinfo.value.reason) == []
    return excinfo.value
