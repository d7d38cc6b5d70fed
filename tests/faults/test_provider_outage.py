"""Leverantören går ner, svarar fel eller blir långsam mitt i en kampanj.

Det riktiga Sinch-SDK:t (och Twilio som reserv) mot låtsasservrar på 127.0.0.1. Leverantören
går ner efter de två första SMS:en; resten blir "misslyckades" (eller "osäkert" när begäran
kom fram men svaret uteblev), numret raderas, ingen får två SMS ens när kön levererar
jobben igen, och personalen ser det på kampanjsidan och i statusadressen som sidan pollar.
`tests/campaigns/test_dispatch.py` prövar redan en leverantör som vägrar respektive tiger
från början; här gäller övergången mitt i utskicket.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from django.test import Client

from campaigns.models import Campaign, Recipient
from campaigns.tasks import send_to_recipient
from tests.campaigns.factories import make_campaign, send_all
from tests.fakes.sinch_server import FakeSinch
from tests.fakes.twilio_server import FakeTwilio
from tests.privacy import leaks, phone_forms
from tests.smsportal.test_failover_chain import chain  # noqa: F401 – fixturen: Sinch först, Twilio som reserv

pytestmark = pytest.mark.django_db

PATIENTS = [(f"Patient {i}", f"+4670123456{i}", i % 2 == 0) for i in range(5)]
FIRST_SENDS = 2


def sinch_per_number(sinch: FakeSinch) -> Counter[str]:
    """SMS-försök per nummer som låtsas-Sinch tog emot."""
    return Counter(number for request in sinch.sends() for number in request.json()["to"])


def twilio_per_number(twilio: FakeTwilio) -> Counter[str]:
    """SMS per nummer som låtsas-Twilio tog emot."""
    return Counter(r.form_fields()["To"] for r in twilio.requests if r.method == "POST")


def dispatch_in_two_rounds(campaign: Campaign, trouble: Any) -> None:
    """Sändjobben i tur och ordning; efter de första FIRST_SENDS inträffar felet (`trouble()`)."""
    ids = list(campaign.recipients.values_list("pk", flat=True))
    for recipient_id in ids[:FIRST_SENDS]:
        send_to_recipient(recipient_id)
    trouble()
    for recipient_id in ids[FIRST_SENDS:]:
        send_to_recipient(recipient_id)


def staff_sees(client: Client, campaign: Campaign) -> tuple[str, dict[str, str]]:
    """Kampanjsidans räknare "Skickade x/y" och sändstatus per namn i statusadressen (sidans polling)."""
    page = client.get(f"/personal/akut-sms/{campaign.pk}/").content.decode()
    counter = page.split('data-testid="framsteg">', 1)[1].split("<", 1)[0]
    rows = client.get(f"/personal/akut-sms/{campaign.pk}/status/").json()["rows"]
    return counter, {row["name"]: row["send_status"] for row in rows}


@pytest.mark.parametrize("trouble", ["nere", "503"])
def test_provider_down_mid_campaign_fails_the_rest_visibly_and_wipes_numbers(
    chain: tuple[FakeSinch, FakeTwilio],
    settings: Any,
    staff_user: Any,
    staff_client: Client,
    caplog: pytest.LogCaptureFixture,
    trouble: str,
) -> None:
    """Bara Sinch: de två första skickas, resten "misslyckades" utan nummer; ingen omsändning senare."""
    sinch, _ = chain
    settings.SMS_PROVIDERS = ["sinch"]
    campaign = make_campaign(staff_user, PATIENTS)
    down = sinch.stop if trouble == "nere" else lambda: sinch.fail_with(503, {"code": "internal_error"}, times=99)
    dispatch_in_two_rounds(campaign, down)

    statuses = list(campaign.recipients.values_list("send_status", "phone_encrypted"))
    assert statuses == [("sent", "")] * FIRST_SENDS + [("failed", "")] * (len(PATIENTS) - FIRST_SENDS)
    send_all(campaign)  # kön levererar alla jobb igen (t.ex. efter en omstart)
    assert max(sinch_per_number(sinch).values()) == 1
    assert len(sinch_per_number(sinch)) == (FIRST_SENDS if trouble == "nere" else len(PATIENTS))
    counter, shown = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {FIRST_SENDS}/{len(PATIENTS)}"
    assert list(shown.values()).count("misslyckades") == len(PATIENTS) - FIRST_SENDS
    assert list(shown.values()).count("skickat") == FIRST_SENDS
    assert leaks([form for _, phone, _ in PATIENTS for form in phone_forms(phone)], loggar=caplog.text) == []


def test_provider_stops_answering_mid_campaign_is_uncertain_never_resent(
    chain: tuple[FakeSinch, FakeTwilio], settings: Any, staff_user: Any, staff_client: Client
) -> None:
    """Sinch tar emot men svarar inte i tid efter två SMS: resten "osäkert", och aldrig igen när Sinch är tillbaka."""
    sinch, twilio = chain
    settings.SMS_TIMEOUT_SECONDS = 0.3
    campaign = make_campaign(staff_user, PATIENTS)

    def stall() -> None:
        """Sinch blir långsammare än tidsgränsen (SMS:en går iväg, svaret uteblir)."""
        sinch.delay = 0.8

    dispatch_in_two_rounds(campaign, stall)
    sinch.delay = 0.0
    send_all(campaign)  # Sinch svarar igen och kön levererar jobben en gång till

    assert list(campaign.recipients.values_list("send_status", flat=True)) == (
        ["sent"] * FIRST_SENDS + ["uncertain"] * (len(PATIENTS) - FIRST_SENDS)
    )
    assert set(campaign.recipients.values_list("phone_encrypted", flat=True)) == {""}
    assert sinch_per_number(sinch) == Counter({phone: 1 for _, phone, _ in PATIENTS})
    assert twilio_per_number(twilio) == Counter()  # osäkert provas aldrig hos reserven
    counter, shown = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {FIRST_SENDS}/{len(PATIENTS)}"
    assert list(shown.values()).count("osäkert") == len(PATIENTS) - FIRST_SENDS


def test_primary_down_mid_campaign_fails_over_and_each_number_gets_one_sms(
    chain: tuple[FakeSinch, FakeTwilio], staff_user: Any, staff_client: Client
) -> None:
    """Sinch går ner efter två SMS: resten går via Twilio, varje nummer får exakt ett SMS totalt."""
    sinch, twilio = chain
    campaign = make_campaign(staff_user, PATIENTS)
    dispatch_in_two_rounds(campaign, sinch.stop)
    send_all(campaign)

    providers = list(campaign.recipients.values_list("provider", flat=True))
    assert providers == ["sinch"] * FIRST_SENDS + ["twilio"] * (len(PATIENTS) - FIRST_SENDS)
    assert sinch_per_number(sinch) + twilio_per_number(twilio) == Counter({phone: 1 for _, phone, _ in PATIENTS})
    counter, shown = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {len(PATIENTS)}/{len(PATIENTS)}" and set(shown.values()) == {"skickat"}


def test_slow_provider_completes_every_send_once(
    chain: tuple[FakeSinch, FakeTwilio], settings: Any, staff_user: Any, staff_client: Client
) -> None:
    """Sinch svarar långsamt (0,4 s) men inom tidsgränsen: alla skickas, en gång, även när jobben kommer två gånger."""
    sinch, twilio = chain
    sinch.delay = 0.4
    campaign = make_campaign(staff_user, PATIENTS)
    send_all(campaign)
    send_all(campaign)
    assert set(campaign.recipients.values_list("send_status", "provider", "phone_encrypted")) == {("sent", "sinch", "")}
    assert sinch_per_number(sinch) == Counter({phone: 1 for _, phone, _ in PATIENTS})
    assert twilio_per_number(twilio) == Counter()
    counter, _ = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {len(PATIENTS)}/{len(PATIENTS)}"
