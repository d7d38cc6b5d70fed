"""Leverantören går ner, svarar fel eller blir långsam mitt i en kampanj.

Det riktiga Sinch-SDK:t (och Twilio som reserv) mot låtsasservrar på 127.0.0.1. Leverantören
går ner efter de två första SMS:en; resten väntar på nytt försök ("försöker igen kl …", numret
kvar) och blir "misslyckades" först när CAMPAIGN_SEND_RETRY_MINUTES gått utan att leverantören
kommit tillbaka (eller "osäkert" direkt när begäran kom fram men svaret uteblev); numret
raderas, ingen får två SMS ens när kön levererar jobben igen, och personalen ser det på
kampanjsidan och i statusadressen som sidan pollar. Är alla leverantörer nere i två minuter
och sedan tillbaka får varje patient sitt SMS, exakt en gång. Jobben och minutschemat körs
som django-q2 kör dem, och klockan flyttas med time_machine.
`tests/campaigns/test_dispatch.py` och `tests/campaigns/test_send_retry.py` prövar en
leverantör som vägrar, tiger eller är nere från början med testbackends; här gäller de
riktiga SDK:erna och övergången mitt i utskicket.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django_q.models import Task

from campaigns.models import Campaign
from campaigns.phones import decrypt_phone
from campaigns.tasks import send_to_recipient
from tests.campaigns.factories import at, make_campaign, run_minute_schedule, send_all
from tests.fakes.server import FakeProvider, RecordedRequest, Reply
from tests.fakes.sinch_server import FakeSinch
from tests.fakes.twilio_server import FakeTwilio
from tests.privacy import database_text, leaks, phone_forms
from tests.smsportal.test_failover_chain import chain  # noqa: F401 – fixturen: Sinch först, Twilio som reserv

pytestmark = pytest.mark.django_db

PATIENTS = [(f"Patient {i}", f"+4670123456{i}", i % 2 == 0) for i in range(5)]
FIRST_SENDS = 2
#: Kampanjen där alla leverantörer är nere i två minuter: 20 mottagare, de fem första skickas före avbrottet.
OUTAGE_PATIENTS = [(f"Patient {i:02d}", f"+467012345{i:02d}", i % 2 == 0) for i in range(20)]
BEFORE_OUTAGE = 5


def waiting_numbers(campaign: Campaign) -> list[str]:
    """De köade mottagarnas nummer, dekrypterade (bevisar att numret finns kvar till nästa försök)."""
    return [decrypt_phone(r.phone_encrypted) for r in campaign.recipients.filter(send_status="queued")]


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
def test_provider_down_mid_campaign_fails_the_rest_visibly_after_the_retry_window_and_wipes_numbers(
    chain: tuple[FakeSinch, FakeTwilio],
    settings: Any,
    staff_user: Any,
    staff_client: Client,
    caplog: pytest.LogCaptureFixture,
    trouble: str,
) -> None:
    """Bara Sinch, och den kommer aldrig tillbaka: de två första skickas, resten väntar med numret kvar
    och blir "misslyckades" utan nummer när fönstret (15 minuter) är slut; ingen omsändning senare."""
    sinch, _ = chain
    settings.SMS_PROVIDERS = ["sinch"]
    settings.CAMPAIGN_SEND_RETRY_MINUTES = 15
    start = timezone.now()
    campaign = make_campaign(staff_user, PATIENTS)
    down = sinch.stop if trouble == "nere" else lambda: sinch.fail_with(503, {"code": "internal_error"}, times=99)
    with at(start):
        dispatch_in_two_rounds(campaign, down)
        assert waiting_numbers(campaign) == [phone for _, phone, _ in PATIENTS[FIRST_SENDS:]]
        counter, shown = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {FIRST_SENDS}/{len(PATIENTS)}"
    next_try = f"försöker igen kl {timezone.localtime(start) + timedelta(minutes=1):%H:%M}"
    assert list(shown.values()).count(next_try) == len(PATIENTS) - FIRST_SENDS
    for minute in range(1, 17):
        with at(start + timedelta(minutes=minute)):
            run_minute_schedule()  # minutschemat provar igen när tiden är inne
            send_all(campaign)  # kön levererar alla jobb igen (t.ex. efter en omstart)
            if minute < 15:
                assert len(waiting_numbers(campaign)) == len(PATIENTS) - FIRST_SENDS

    statuses = list(campaign.recipients.values_list("send_status", "phone_encrypted"))
    assert statuses == [("sent", "")] * FIRST_SENDS + [("failed", "")] * (len(PATIENTS) - FIRST_SENDS)
    accepted = Counter(number for batch in sinch.batches for number in batch["to"])
    assert accepted == Counter({phone: 1 for _, phone, _ in PATIENTS[:FIRST_SENDS]})
    if trouble == "503":  # försöken efter 0, 1, 3, 7, 11 och 15 minuter nådde Sinch och fick 503
        assert sinch_per_number(sinch) - accepted == Counter({phone: 6 for _, phone, _ in PATIENTS[FIRST_SENDS:]})
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


class OutageServer(FakeProvider):
    """Leverantörernas adress under avbrottet: svarar `status` (503, 429) på varje begäran."""

    def __init__(self, status: int) -> None:
        """Skapar servern (startas med `start()`)."""
        super().__init__()
        self.status = status

    def handle(self, request: RecordedRequest) -> Reply:
        """Samma fel för alla sökvägar, med en felkropp som både Sinch och Twilio känner igen."""
        body = {"code": self.status, "message": "Service unavailable", "text": "Service unavailable"}
        return Reply(self.status, body, {"Retry-After": "60"} if self.status == 429 else {})


@contextmanager
def every_provider_down(settings: Any, kind: str) -> Iterator[OutageServer]:
    """Sinch och Twilio går inte att nå ("nere") eller svarar 503/429, tills blocket lämnas."""
    outage = OutageServer(429 if kind == "429" else 503).start()
    if kind == "nere":
        outage.stop()  # porten tar inte emot anslutningar
    working = settings.SINCH_BASE_URL, settings.TWILIO_BASE_URL
    settings.SINCH_BASE_URL = settings.TWILIO_BASE_URL = outage.url
    try:
        yield outage
    finally:
        settings.SINCH_BASE_URL, settings.TWILIO_BASE_URL = working
        if kind != "nere":
            outage.stop()


@pytest.mark.parametrize("kind", ["nere", "503", "429"])
def test_every_provider_down_for_two_minutes_then_back_each_patient_gets_one_sms(
    chain: tuple[FakeSinch, FakeTwilio],
    settings: Any,
    staff_user: Any,
    staff_client: Client,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Issue 12: alla leverantörer nere i två minuter under en kampanj med 20 mottagare, sedan tillbaka.

    Under avbrottet visar sidan "försöker igen kl …" och räknar dem inte som skickade, numret ligger
    kvar och jobb som levereras igen gör ingenting. Efteråt: varje patient exakt ett SMS hos
    leverantören, ingen "misslyckades", varje nummer raderat, inget nummer i loggarna eller i
    databasen (django-q2:s jobb med: bara id:n).
    """
    sinch, twilio = chain
    start = timezone.now()
    campaign = make_campaign(staff_user, OUTAGE_PATIENTS)
    ids = list(campaign.recipients.values_list("pk", flat=True))
    hit = OUTAGE_PATIENTS[BEFORE_OUTAGE:]  # de som skulle skickas när avbrottet började
    with at(start):
        for recipient_id in ids[:BEFORE_OUTAGE]:
            send_to_recipient(recipient_id)
    with every_provider_down(settings, kind) as outage:
        with at(start):
            for recipient_id in ids[BEFORE_OUTAGE:]:
                send_to_recipient(recipient_id)
            after_first_try = staff_sees(staff_client, campaign)
        with at(start + timedelta(minutes=1)):
            run_minute_schedule()  # nytt försök: fortfarande nere
            send_all(campaign)
            after_second_try = staff_sees(staff_client, campaign)
            assert waiting_numbers(campaign) == [phone for _, phone, _ in hit]
        tries_during_outage = len(outage.requests)
    with at(start + timedelta(minutes=2)):  # leverantörerna är tillbaka; nästa försök är inte inne än
        run_minute_schedule()
        send_all(campaign)
        assert waiting_numbers(campaign) == [phone for _, phone, _ in hit]
    for minute in (3, 4, 5):
        with at(start + timedelta(minutes=minute)):
            run_minute_schedule()
            send_all(campaign)

    for (counter, shown), wait in ((after_first_try, 1), (after_second_try, 3)):
        assert counter == f"Skickade {BEFORE_OUTAGE}/{len(OUTAGE_PATIENTS)}"
        expected = f"försöker igen kl {timezone.localtime(start) + timedelta(minutes=wait):%H:%M}"
        assert list(shown.values()) == ["skickat"] * BEFORE_OUTAGE + [expected] * len(hit)
    # Försöken efter 0 och 1 minut nådde avbrottets server hos båda leverantörerna (utom när den är nere).
    assert tries_during_outage == (0 if kind == "nere" else 2 * 2 * len(hit))
    per_number = sinch_per_number(sinch) + twilio_per_number(twilio)
    assert per_number == Counter({phone: 1 for _, phone, _ in OUTAGE_PATIENTS})
    assert set(campaign.recipients.values_list("send_status", "phone_encrypted", "retry_at")) == {("sent", "", None)}
    counter, shown = staff_sees(staff_client, campaign)
    assert counter == f"Skickade {len(OUTAGE_PATIENTS)}/{len(OUTAGE_PATIENTS)}" and set(shown.values()) == {"skickat"}
    # Lyckade sändjobb sparas inte i django-q2:s tabell (utfallet står på mottagaren).
    assert not Task.objects.filter(func="campaigns.tasks.send_to_recipient").exists()
    forms = [form for _, phone, _ in OUTAGE_PATIENTS for form in phone_forms(phone)]
    assert leaks(forms, loggar=caplog.text, databas=database_text()) == []
