"""Statistiksidan på en känd datamängd: tre kampanjer med fasta tider, svar och utfall, och
envägs-SMS med kända utfall. Varje siffra på sidan och i CSV:n är den väntade, och densamma
före och efter att kampanjerna raderats."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign, CampaignSummary
from campaigns.outcomes import record_call_outcome
from campaigns.services import change_status, mark_opened, purge_expired, record_answer
from smsportal.delivery import DeliveryStatus, receive_report
from smsportal.ledger import begin_attempt, complete_attempt
from smsportal.models import AttemptStatus, Purpose, SendAttempt
from tests.campaigns.factories import PATIENTS, at, make_campaign, recipient, send_all
from tests.privacy import phone_pattern

#: Sidan läses den 20 november 2026: de tolv månaderna är december 2025 – november 2026.
TODAY = timezone.make_aware(datetime(2026, 11, 20, 12, 0))
OCTOBER_A = timezone.make_aware(datetime(2026, 10, 5, 10, 0))
OCTOBER_B = timezone.make_aware(datetime(2026, 10, 12, 9, 0))
NOVEMBER_C = timezone.make_aware(datetime(2026, 11, 2, 8, 0))


def _campaign(user: Any, start: datetime) -> Campaign:
    """En kampanj till de tre patienterna, skapad och skickad vid `start`."""
    with at(start):
        campaign = make_campaign(user, slot_at=start + timedelta(days=2), operation_type="knäprotes")
        send_all(campaign)
    return campaign


def _answer(campaign: Campaign, name: str, answer: str, minutes: int) -> None:
    """Patienten öppnar länken och svarar `minutes` minuter efter kampanjens start."""
    with at(campaign.created_at + timedelta(minutes=minutes)):
        mark_opened(recipient(campaign, name))
        record_answer(recipient(campaign, name), answer)


def _one_way(user: Any, moment: datetime, status: AttemptStatus, segments: int = 1, **fields: Any) -> SendAttempt:
    """Ett envägs-SMS i registret med känt utfall vid `moment`."""
    with at(moment):
        attempt = begin_attempt(
            purpose=Purpose.ONE_WAY, actor=user, category="Före besök", template_title="Fasta", **fields
        )
        sent = {"provider": "locmem", "provider_message_id": f"ow-{attempt.pk}", "segments": segments}
        complete_attempt(attempt, status, **(sent if status == AttemptStatus.SENT else {"reason": "ogiltigt nummer"}))
    return attempt


@pytest.fixture
def known_data(staff_user: Any, admin_user: Any) -> dict[str, Any]:
    """Kampanj A (oktober): JA efter 10 min, Bokad efter 30 min. Kampanj B (oktober): JA efter 20 min,
    avslutad. Kampanj C (november): JA efter 40 min, "Tiden är tillsatt" efter 90 min. Envägs-SMS:
    i oktober tre skickade (1 + 1 + 2 delar, två levererade), ett misslyckat och ett osäkert; i
    november ett skickat av administratören."""
    a = _campaign(staff_user, OCTOBER_A)
    _answer(a, "Anna Andersson", "yes", 10)
    _answer(a, "Karl Karlsson", "no", 12)
    with at(OCTOBER_A + timedelta(minutes=2)):
        for name in ("Anna Andersson", "Karl Karlsson"):
            receive_report("locmem", recipient(a, name).provider_message_id, DeliveryStatus.DELIVERED)
    with at(OCTOBER_A + timedelta(minutes=30)):
        record_call_outcome(a, recipient(a, "Anna Andersson").pk, "booked", staff_user)

    b = _campaign(staff_user, OCTOBER_B)
    _answer(b, "Lisa Larsson", "yes", 20)
    with at(OCTOBER_B + timedelta(minutes=60)):
        change_status(b, staff_user, Campaign.Status.CLOSED)

    c = _campaign(staff_user, NOVEMBER_C)
    _answer(c, "Karl Karlsson", "yes", 40)
    with at(NOVEMBER_C + timedelta(minutes=90)):
        change_status(c, staff_user, Campaign.Status.FILLED)

    october = OCTOBER_A + timedelta(days=1)
    delivered = [_one_way(staff_user, october, AttemptStatus.SENT, segments) for segments in (1, 1)]
    _one_way(staff_user, october, AttemptStatus.SENT, 2)
    _one_way(staff_user, october, AttemptStatus.FAILED)
    _one_way(staff_user, october, AttemptStatus.UNCERTAIN)
    for attempt in delivered:
        receive_report("locmem", attempt.provider_message_id, DeliveryStatus.DELIVERED)
    _one_way(admin_user, NOVEMBER_C + timedelta(days=1), AttemptStatus.SENT)
    campaigns = [a, b, c]
    codes = [code for campaign in campaigns for code in campaign.recipients.values_list("code", flat=True)]
    return {"campaigns": campaigns, "codes": codes}


def _segments(campaign: Campaign) -> int:
    """SMS-delarna som registret har för kampanjen (uträknat här, oberoende av statistiken)."""
    rows = SendAttempt.objects.filter(campaign_id=campaign.pk, status=AttemptStatus.SENT)
    return sum(rows.values_list("segments", flat=True))


def _csv(client: Client) -> dict[str, dict[str, str]]:
    """Statistikens CSV som {månad: {kolumn: värde}}."""
    with at(TODAY):
        response = client.get(reverse("stats:csv"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    return {row["Månad"]: row for row in rows}


def _cost(segments: int) -> str:
    """Kostnaden med 0,35 kr per del som CSV:n skriver den."""
    return f"{segments * 0.35:.2f}".replace(".", ",")


def test_every_figure_in_the_csv_is_the_expected_number(staff_client: Client, known_data: dict[str, Any]) -> None:
    """Oktober: 2 kampanjer, 1 tillsatt; median till första JA 15 min (10 och 20), 90:e percentil
    20 min; tillsatt efter 30 min. November: 1 av 1 tillsatt, JA efter 40 min, tillsatt efter 90."""
    a, b, c = known_data["campaigns"]
    table = _csv(staff_client)
    assert list(table)[:12][0] == "2025-12" and list(table)[11] == "2026-11" and list(table)[12] == "Totalt"
    october, november, total = table["2026-10"], table["2026-11"], table["Totalt"]
    assert {k: october[k] for k in list(october)[1:14]} == {
        "Kampanjer": "2",
        "Tillsatta": "1",
        "Fyllnadsgrad (%)": "50,0",
        "Mottagare": "6",
        "Skickade": "6",
        "Levererade": "2",
        "Öppnade": "3",
        "Svarade": "3",
        "JA": "2",
        "NEJ": "1",
        "Kampanjer i grupper": "0",
        "Grupper": "0",
        "SMS-delar kampanjer": str(_segments(a) + _segments(b)),
    }
    assert october["Kostnad kampanjer (kr)"] == _cost(_segments(a) + _segments(b))
    assert (october["Median till första JA (min)"], october["90:e percentil till första JA (min)"]) == ("15,0", "20,0")
    assert (october["Median till tillsatt (min)"], october["90:e percentil till tillsatt (min)"]) == ("30,0", "30,0")
    assert october["Återvunnet värde (kr)"] == "10000"
    assert (november["Kampanjer"], november["Tillsatta"], november["Fyllnadsgrad (%)"]) == ("1", "1", "100,0")
    assert (november["Median till första JA (min)"], november["Median till tillsatt (min)"]) == ("40,0", "90,0")
    assert (total["Kampanjer"], total["Tillsatta"], total["Återvunnet värde (kr)"]) == ("3", "2", "20000")
    assert total["Fyllnadsgrad (%)"] == "66,7"
    assert total["Median till första JA (min)"] == "20,0"  # 10, 20 och 40
    assert total["90:e percentil till första JA (min)"] == "40,0"
    segments = sum(_segments(campaign) for campaign in (a, b, c))
    value_per_krona = 20000 / (segments * 0.35)
    assert total["Värde per SMS-krona"] == f"{value_per_krona:.1f}".replace(".", ",")
    assert {k: october[k] for k in list(october)[21:]} == {
        "Envägs-SMS skickade": "3",
        "Envägs-SMS misslyckade": "1",
        "Envägs-SMS osäkra": "1",
        "Envägs-SMS levererade": "2",
        "SMS-delar envägs": "4",
        "Kostnad envägs (kr)": "1,40",
    }
    assert (november["Envägs-SMS skickade"], total["Envägs-SMS skickade"], total["SMS-delar envägs"]) == ("1", "4", "5")
    assert table["2026-09"]["Kampanjer"] == "0" and table["2026-09"]["Fyllnadsgrad (%)"] == ""


def test_the_page_shows_the_same_figures(staff_client: Client, known_data: dict[str, Any]) -> None:
    """Nyckeltalen och tabellerna: fyllnadsgrad, tider, värde, per mall och per orsak."""
    with at(TODAY):
        response = staff_client.get(reverse("stats:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    year = response.context["campaign_year"]
    assert (year.campaigns, year.filled, year.yes, year.no) == (3, 2, 3, 1)
    assert 'data-testid="fyllnadsgrad">67 %<' in html
    assert 'data-testid="tid-till-forsta-ja">20 min<' in html
    assert 'data-testid="vardet">20\u202f000 kr<' in html
    row = '<th scope="row" class="fw-normal text-nowrap">oktober 2026</th><td class="text-end">2</td><td class="text-end">1</td><td class="text-end">50 %</td>'
    assert row in html
    assert "<td>Före besök</td>" in html and ">Fasta</th>" in html
    assert '<th scope="row" class="fw-normal">ogiltigt nummer</th><td class="text-end">1</td>' in html
    assert 'data-testid="diagram-kampanjer"' in html and "<title>nov 26: tillsatta 1</title>" in html
    assert 'data-testid="per-person"' not in html  # personal ser inte siffror per person


def test_admins_see_one_way_sms_per_person_and_month(known_data: dict[str, Any], admin_user: Any) -> None:
    """Administratören ser envägs-SMS per användare och månad; personalen "anna" skickade 3 i oktober."""
    client = Client()
    client.force_login(admin_user)
    with at(TODAY):
        response = client.get(reverse("stats:overview"))
    staff = {person.username: person.per_month for person in response.context["staff"]}
    assert staff == {"anna": [0] * 10 + [3, 0], "chef": [0] * 11 + [1]}
    assert 'data-testid="per-person"' in response.content.decode()


def test_figures_are_the_same_after_the_purge(staff_client: Client, known_data: dict[str, Any]) -> None:
    """Raderingen efter 7 dagar tar kampanjerna, men inte en enda siffra i statistiken."""
    before = _csv(staff_client)
    with at(TODAY):
        assert purge_expired() == 3
    assert not Campaign.objects.exists()
    assert CampaignSummary.objects.count() == 3
    assert _csv(staff_client) == before


def test_statistics_rows_hold_no_name_number_code_or_operation_type(known_data: dict[str, Any]) -> None:
    """Integritetskanariet efter raderingen: statistikraderna har inget som pekar ut en patient."""
    with at(TODAY):
        purge_expired()
    haystack = repr(list(CampaignSummary.objects.values()))
    for name, phone, _ in PATIENTS:
        assert name.split()[0] not in haystack and name.split()[1] not in haystack
        assert not phone_pattern(phone).search(haystack)
    assert not any(code in haystack for code in known_data["codes"])
    assert "knäprotes" not in haystack
    assert "anna" not in haystack  # inte heller vem i personalen som skapade kampanjen


def test_summary_is_written_when_a_campaign_ends(staff_user: Any) -> None:
    """Tillsatt eller avslutad: raden skrivs direkt (inte först vid raderingen)."""
    campaign = _campaign(staff_user, timezone.now())
    assert not CampaignSummary.objects.exists()
    change_status(campaign, staff_user, Campaign.Status.CLOSED)
    summary = CampaignSummary.objects.get(campaign_id=campaign.pk)
    assert (summary.status, summary.recipients, summary.sent, summary.yes) == ("closed", 3, 3, 0)


def test_statistics_needs_a_signed_in_user(client: Client) -> None:
    """Utan inloggning: till inloggningen, inga siffror."""
    for name in ("stats:overview", "stats:csv"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/konto/logga-in/" in response["Location"]


def test_an_empty_portal_shows_dashes_not_errors(staff_client: Client) -> None:
    """Utan några kampanjer eller SMS: sidan visar streck, ingen division med noll."""
    response = staff_client.get(reverse("stats:overview"))
    assert response.status_code == 200
    assert 'data-testid="fyllnadsgrad">–<' in response.content.decode()
    assert get_user_model().objects.count() == 1
