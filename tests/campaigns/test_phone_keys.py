"""Krypteringen av köade nummer: egna nycklar (PHONE_ENCRYPTION_KEYS), byte av nycklar, och byte
av SECRET_KEY som aldrig gör ett köat SMS misslyckat."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.signing import BadSignature
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage

from campaigns.dispatch import requeue_stuck_recipients
from campaigns.models import Recipient
from campaigns.phones import PhoneDecryptionError, decrypt_phone, encrypt_phone
from tests.campaigns.factories import PATIENTS, make_campaign, send_all

PHONE = "+46701234567"


def new_key() -> str:
    """En ny Fernet-nyckel, som `Fernet.generate_key()` ger den."""
    return Fernet.generate_key().decode()


def test_secret_key_rotation_never_fails_a_queued_send(
    staff_user: Any,
    sms_outbox: list[Any],
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Kampanjen köas, portalen startas om med ny SECRET_KEY: django-q2:s jobb (signerade med den
    gamla) går förlorade, men en arbetsprocess som startar köar om mottagarna och varje köat
    nummer går att läsa och skickas, en gång."""
    with django_capture_on_commit_callbacks(execute=True):
        campaign = make_campaign(staff_user)
    rotated = "en-helt-ny-secret-key-efter-byte-" + new_key()
    settings.SECRET_KEY = rotated
    monkeypatch.setattr(Conf, "SECRET_KEY", rotated)  # django-q2 läser nyckeln när processen startar

    broker = get_broker()
    lost = 0
    while broker.queue_size():
        for task_id, payload in broker.dequeue() or []:
            with pytest.raises(BadSignature):  # arbetsprocessens pusher släpper sådana jobb
                SignedPackage.loads(payload)
            broker.acknowledge(task_id)
            lost += 1
    assert lost == len(PATIENTS)

    monkeypatch.setattr(Conf, "SYNC", True)
    requeue_stuck_recipients(older_than=timedelta(0))  # det en arbetsprocess gör när den startar

    assert sorted(message.to for message in sms_outbox) == sorted(phone for _, phone, _ in PATIENTS)
    statuses = set(campaign.recipients.values_list("send_status", flat=True))
    assert statuses == {Recipient.SendStatus.SENT}


def test_rotating_encryption_keys_reads_old_numbers_and_writes_with_the_new_key(settings: Any) -> None:
    """Ny nyckel först, gamla sist: gamla nummer läses, nya krypteras med den nya nyckeln."""
    old, new = new_key(), new_key()
    settings.PHONE_ENCRYPTION_KEYS = [old]
    stored_before = encrypt_phone(PHONE)

    settings.PHONE_ENCRYPTION_KEYS = [new, old]
    assert decrypt_phone(stored_before) == PHONE
    stored_after = encrypt_phone(PHONE)

    settings.PHONE_ENCRYPTION_KEYS = [new]
    assert decrypt_phone(stored_after) == PHONE
    with pytest.raises(PhoneDecryptionError):
        decrypt_phone(stored_before)


def test_rotate_phone_keys_command_lets_the_old_key_go(staff_user: Any, sms_outbox: list[Any], settings: Any) -> None:
    """`rotate_phone_keys` krypterar om de köade numren med den nya nyckeln: därefter kan den gamla
    tas bort ur listan och kampanjen skickas ändå."""
    old, new = new_key(), new_key()
    settings.PHONE_ENCRYPTION_KEYS = [old]
    campaign = make_campaign(staff_user)

    settings.PHONE_ENCRYPTION_KEYS = [new, old]
    output = io.StringIO()
    call_command("rotate_phone_keys", stdout=output)
    assert f"Krypterade om {len(PATIENTS)} nummer" in output.getvalue()

    settings.PHONE_ENCRYPTION_KEYS = [new]
    send_all(campaign)
    assert sorted(message.to for message in sms_outbox) == sorted(phone for _, phone, _ in PATIENTS)
    assert set(campaign.recipients.values_list("phone_encrypted", flat=True)) == {""}
