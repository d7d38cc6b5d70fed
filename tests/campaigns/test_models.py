"""Kampanjmodellerna: svarskoder, en gång per nummer, ingen klartext efter sändning."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError
from django.utils import timezone

from campaigns.models import CODE_ALPHABET, Campaign, Recipient
from campaigns.phones import phone_hash


def make_campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj för i morgon."""
    return Campaign.objects.create(slot_at=timezone.now() + timedelta(days=1), created_by=staff_user)


def test_reply_codes_have_at_least_96_bits(staff_user: Any) -> None:
    """Svarskoden är slumpad med minst 96 bitar och unik per mottagare."""
    campaign = make_campaign(staff_user)
    codes = {
        Recipient.objects.create(
            campaign=campaign, name=f"P{i}", phone_hash=phone_hash(f"+4670123456{i}"), phone_masked="070-123 ****"
        ).code
        for i in range(10)
    }
    assert len(codes) == 10
    assert all(code.isascii() and code.isalnum() for code in codes)  # hela länken blir klickbar
    assert all(len(code) * math.log2(len(CODE_ALPHABET)) >= 96 for code in codes)


def test_one_number_twice_in_a_campaign_is_refused(staff_user: Any) -> None:
    """Databasen vägrar samma nummerhash två gånger i samma kampanj."""
    campaign = make_campaign(staff_user)
    Recipient.objects.create(
        campaign=campaign, name="A", phone_hash=phone_hash("+46701234567"), phone_masked="070-123 ****"
    )
    with pytest.raises(IntegrityError):
        Recipient.objects.create(
            campaign=campaign, name="B", phone_hash=phone_hash("+46701234567"), phone_masked="070-123 ****"
        )
