"""Utvecklingsutkorgen: SMS från alla processer, bara de senaste, bara med DEBUG, raderas med kampanjerna."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from campaigns.models import Campaign
from smsportal import devoutbox
from smsportal.models import DevOutboxMessage
from smsportal.sending import send_sms
from tests.campaigns.factories import make_campaign, send_all, tomorrow_at
from tests.e2e.test_campaign_live_browser import run_manage, server_env

LINK_TEXT = "Hej! En tid har blivit ledig. Svara JA eller NEJ: http://127.0.0.1:8000/s/KLMNPQRSTUVWXYZ2"

# Körs i en egen process, som en arbetsprocess i django-q2: skickar ett SMS genom kedjan.
SEND_IN_OTHER_PROCESS = f"""
from smsportal.sending import send_sms
send_sms("+46701234567", {LINK_TEXT!r})
"""

# Körs i ännu en process, som webbprocessen: en inloggad utbildare öppnar utkorgen.
SHOW_IN_OTHER_PROCESS = """
from django.contrib.auth import get_user_model
from django.test import Client
client = Client()
client.force_login(get_user_model().objects.create_user(username="utbildare"))
response = client.get("/utveckling/utkorg/")
print("STATUS=%d" % response.status_code)
print(response.content.decode())
"""


@pytest.fixture
def console_in_development(settings: Any) -> Any:
    """Utvecklingsläge med konsolbackenden (som `make run`)."""
    settings.DEBUG = True
    settings.SMS_PROVIDERS = ["console"]
    return settings


def development_env(database: Path) -> dict[str, str]:
    """Miljön för en egen manage.py-process: testmiljön med DEBUG på, konsolbackenden och egen SQLite-fil."""
    return {**server_env(database, "http://127.0.0.1:8000"), "DEBUG": "true", "SMS_PROVIDERS": "console"}


def test_sms_sent_by_another_process_is_on_the_outbox_page(tmp_path: Path) -> None:
    """Ett SMS som en annan process skickat (som django-q2:s arbetsprocess) syns på webbprocessens
    utkorgssida, med klickbar patientlänk och bara maskerat nummer."""
    env = development_env(tmp_path / "utkorg.sqlite3")
    run_manage(env, "migrate", "--noinput", "-v", "0")
    printed = run_manage(env, "shell", "-c", SEND_IN_OTHER_PROCESS)
    assert "SMS till 070-123 ****" in printed and "+46701234567" not in printed

    page = run_manage(env, "shell", "-c", SHOW_IN_OTHER_PROCESS)
    assert "STATUS=200" in page
    assert 'href="http://127.0.0.1:8000/s/KLMNPQRSTUVWXYZ2"' in page
    assert "till 070-123 ****" in page and "1 SMS-del" in page
    assert "+46701234567" not in page and "45 67" not in page


def test_only_the_latest_messages_are_kept(console_in_development: Any, db: Any, capsys: Any) -> None:
    """Utkorgen håller bara de senaste KEEP SMS:en, nyast först; de äldsta raderas vid varje nytt."""
    for number in range(devoutbox.KEEP + 3):
        send_sms("+46701234567", f"SMS nummer {number}")
    kept = [message.text for message in devoutbox.recent()]
    assert kept == [f"SMS nummer {number}" for number in reversed(range(3, devoutbox.KEEP + 3))]
    assert DevOutboxMessage.objects.count() == devoutbox.KEEP


def test_nothing_is_stored_with_debug_off(settings: Any, db: Any, capsys: Any) -> None:
    """Med DEBUG av sparas inget SMS, inte ens om konsolbackenden ändå används (startkontrollen
    stoppar det i drift; här provas att utkorgen själv inte heller sparar)."""
    settings.DEBUG = False
    settings.SMS_PROVIDERS = ["console"]
    send_sms("+46701234567", LINK_TEXT)
    assert "SMS till 070-123 ****" in capsys.readouterr().out
    assert not DevOutboxMessage.objects.exists()


def test_purge_removes_old_messages_and_those_of_purged_campaigns(
    console_in_development: Any, staff_user: Any, capsys: Any
) -> None:
    """`manage.py purge_campaigns` (samma radering som django-q2-schemat) tar bort SMS äldre än
    CAMPAIGN_RETENTION_DAYS och kampanjens SMS, även de som skickades senare än kampanjen skapades."""
    console_in_development.CAMPAIGN_RETENTION_DAYS = 7
    start = timezone.now()
    send_sms("+46701234567", "Gammalt envägs-SMS")
    campaign = make_campaign(staff_user, slot_at=tomorrow_at() + timedelta(days=5))
    with time_machine.travel(start + timedelta(days=3)):
        send_all(campaign)
        send_sms("+46701234567", "Nyare envägs-SMS")
    assert DevOutboxMessage.objects.count() == 2 + campaign.recipients.count()

    with time_machine.travel(start + timedelta(days=7, minutes=1)):
        call_command("purge_campaigns", stdout=StringIO())

    assert not Campaign.objects.exists()
    assert [message.text for message in devoutbox.recent()] == ["Nyare envägs-SMS"]
