"""Åtkomstloggen (logguppföljning): kampanjsidan, statusadressen, websocketen och audit-sidan
skrivs med användare och id; filter, CSV, behörighet, radering och inga persondata i tabellen."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker

from audit.models import AccessEvent, AccessKind
from audit.services import record_access
from campaigns.models import Campaign
from campaigns.services import purge_expired
from tests.accounts.test_security import manage, production_env
from tests.campaigns.factories import PATIENTS, at, make_campaign
from tests.campaigns.test_live import communicator, next_snapshot, run, session_cookie
from tests.privacy import leaks, phone_pattern, table_text, text_forms

Row = tuple[str, str, int | None]


def logged() -> list[Row]:
    """Åtkomstloggens rader i skrivordning: (användarnamn, slag, kampanjens id)."""
    return list(AccessEvent.objects.order_by("pk").values_list("actor_username", "kind", "campaign_id"))


def detail(campaign: Campaign) -> str:
    """Kampanjsidans adress."""
    return reverse("campaigns:detail", args=[campaign.pk])


def status(campaign: Campaign) -> str:
    """Statusadressen (JSON) som sidan pollar när websocketen är nere."""
    return reverse("campaigns:snapshot", args=[campaign.pk])


def csv_rows(response: Any) -> list[list[str]]:
    """CSV-filens rader utan rubrikraden."""
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))[1:]


def test_campaign_page_and_status_are_recorded_with_user_and_id(
    staff_client: Client, admin_client_: Client, staff_user: Any
) -> None:
    """Kampanjsidan och statusadressen ger en rad var med användaren och kampanjens id; en okänd
    kampanj (404) ger ingen rad."""
    first, second = make_campaign(staff_user), make_campaign(staff_user)
    assert staff_client.get(detail(first)).status_code == 200
    assert staff_client.get(status(first)).status_code == 200
    assert admin_client_.get(detail(second)).status_code == 200
    assert staff_client.get(reverse("campaigns:detail", args=[second.pk + 100])).status_code == 404
    assert logged() == [
        ("anna", AccessKind.CAMPAIGN_PAGE, first.pk),
        ("anna", AccessKind.CAMPAIGN_STATUS, first.pk),
        ("chef", AccessKind.CAMPAIGN_PAGE, second.pk),
    ]


def test_status_polling_is_recorded_once_per_minute(
    staff_client: Client, admin_client_: Client, staff_user: Any
) -> None:
    """Polling var 5:e sekund ger en rad per användare, kampanj och minut, inte en per anrop;
    sidan själv och en annan användare får egna rader."""
    campaign = make_campaign(staff_user)
    start = timezone.now() + timedelta(seconds=1)
    for second in range(0, 60, 5):
        with at(start + timedelta(seconds=second)):
            assert staff_client.get(status(campaign)).status_code == 200
    with at(start + timedelta(seconds=30)):
        admin_client_.get(status(campaign))
        staff_client.get(detail(campaign))
    with at(start + timedelta(seconds=61)):
        staff_client.get(status(campaign))
    assert logged() == [
        ("anna", AccessKind.CAMPAIGN_STATUS, campaign.pk),
        ("chef", AccessKind.CAMPAIGN_STATUS, campaign.pk),
        ("anna", AccessKind.CAMPAIGN_PAGE, campaign.pk),
        ("anna", AccessKind.CAMPAIGN_STATUS, campaign.pk),
    ]


@pytest.fixture
def empty_queue() -> Iterator[None]:
    """Kampanjen köar riktiga sändjobb efter commit: kön (Redis delas) töms efteråt."""
    yield
    get_broker().delete_queue()


@pytest.mark.django_db(transaction=True)
def test_socket_connect_is_recorded(staff_user: Any, empty_queue: None) -> None:
    """Kampanjsidans websocket skrivs när den släppts in; en vägrad (utan inloggning) skrivs inte."""
    campaign = make_campaign(staff_user)
    key = session_cookie(staff_user)

    async def scenario() -> None:
        """En anonym anslutning vägras, en inloggad får sin första bild."""
        assert await communicator(campaign.pk).connect() == (False, 4401)
        socket = communicator(campaign.pk, key)
        assert (await socket.connect())[0]
        await next_snapshot(socket)
        await socket.disconnect()

    run(scenario)
    assert logged() == [("anna", AccessKind.CAMPAIGN_SOCKET, campaign.pk)]


def test_audit_page_and_exports_are_recorded(admin_client_: Client) -> None:
    """Audit-sidan och åtkomstloggen skrivs (en gång per minut); varje CSV-export skrivs."""
    for _ in range(2):
        assert admin_client_.get(reverse("audit:log")).status_code == 200
        assert admin_client_.get(reverse("audit:log"), {"format": "csv"}).status_code == 200
    assert admin_client_.get(reverse("audit:access")).status_code == 200
    assert admin_client_.get(reverse("audit:access"), {"format": "csv"}).status_code == 200
    assert logged() == [
        ("chef", AccessKind.AUDIT_LOG, None),
        ("chef", AccessKind.AUDIT_CSV, None),
        ("chef", AccessKind.AUDIT_CSV, None),
        ("chef", AccessKind.ACCESS_LOG, None),
        ("chef", AccessKind.ACCESS_CSV, None),
    ]


def test_audit_log_in_django_admin_is_recorded(admin_client_: Client) -> None:
    """Audit-loggen i Django admin skrivs också."""
    assert admin_client_.get("/admin/audit/auditevent/").status_code == 200
    assert logged() == [("chef", AccessKind.AUDIT_ADMIN, None)]


#: Dagarna för visningarna i `earlier_views` (före testets egna visningar, som sker i dag).
FIRST_DAY = timezone.localdate() - timedelta(days=10)
SECOND_DAY = FIRST_DAY + timedelta(days=1)


def local(day: date, clock: time) -> datetime:
    """Dag och klockslag i klinikens tidszon."""
    return timezone.make_aware(datetime.combine(day, clock))


def earlier_views(staff_user: Any, admin_user: Any) -> None:
    """Visningar två dagar för tio dagar sedan: Anna ser kampanj 7 och 8, chefen kampanj 7 och audit-loggen."""
    with at(local(FIRST_DAY, time(10))):
        record_access(AccessKind.CAMPAIGN_PAGE, user=staff_user, campaign_id=7)
        record_access(AccessKind.CAMPAIGN_PAGE, user=admin_user, campaign_id=7)
    with at(local(SECOND_DAY, time(14, 30))):
        record_access(AccessKind.CAMPAIGN_STATUS, user=staff_user, campaign_id=8)
        record_access(AccessKind.AUDIT_LOG, user=admin_user)


def test_filters_answer_who_saw_a_campaign_and_what_a_user_saw(
    admin_client_: Client, staff_user: Any, admin_user: Any
) -> None:
    """Kampanj-id ger vem som såg kampanjen, användare ger vad hen såg, datumen avgränsar."""
    earlier_views(staff_user, admin_user)
    access = reverse("audit:access")
    who = csv_rows(admin_client_.get(access, {"campaign": 7, "format": "csv"}))
    assert [row[1:] for row in who] == [["chef", "Kampanjsidan", "7"], ["anna", "Kampanjsidan", "7"]]
    assert who[0][0] == f"{FIRST_DAY:%Y-%m-%d} 10:00:00"
    what = csv_rows(admin_client_.get(access, {"user": staff_user.username, "format": "csv"}))
    assert [row[1:] for row in what] == [
        ["anna", "Kampanjens läge (statusadressen)", "8"],
        ["anna", "Kampanjsidan", "7"],
    ]
    day = {"date_from": SECOND_DAY.isoformat(), "date_to": SECOND_DAY.isoformat(), "format": "csv"}
    assert [row[1:] for row in csv_rows(admin_client_.get(access, day))] == [
        ["chef", "Audit-loggen", ""],
        ["anna", "Kampanjens läge (statusadressen)", "8"],
    ]
    page = admin_client_.get(access, {"campaign": 8}).content.decode()
    assert page.count("<td>Kampanjens läge (statusadressen)</td>") == 1 and "<td>Kampanjsidan</td>" not in page


def test_access_page_shows_the_rows_and_its_csv_has_them(
    admin_client_: Client, staff_user: Any, admin_user: Any
) -> None:
    """Fliken visar raderna (nyast först) och CSV-filen har samma rader med rubriker."""
    earlier_views(staff_user, admin_user)
    page = admin_client_.get(reverse("audit:access"), {"date_to": SECOND_DAY.isoformat()}).content.decode()
    assert 'aria-current="page" href="/logg/atkomst/">Åtkomstlogg</a>' in page
    assert "<td>anna</td>\n    <td>Kampanjens läge (statusadressen)</td>\n    <td>8</td>" in page
    assert page.count('<tr>\n    <td class="text-nowrap">') == 4
    response = admin_client_.get(reverse("audit:access"), {"date_to": SECOND_DAY.isoformat(), "format": "csv"})
    assert response["Content-Disposition"].startswith('attachment; filename="atkomst-')
    header = response.content.decode("utf-8-sig").splitlines()[0]
    assert header == "Tidpunkt;Användare;Visning;Kampanj-id"
    assert len(csv_rows(response)) == 4


def test_bad_filter_values_give_a_swedish_message_never_a_500(
    admin_client_: Client, staff_user: Any, admin_user: Any
) -> None:
    """Ogiltiga värden får ett svenskt besked vid fältet; de giltiga filtren gäller ändå."""
    earlier_views(staff_user, admin_user)
    access = reverse("audit:access")
    for value, message in [("abc", "Fyll i ett heltal."), ("0", "större än eller lika med 1"), ("9" * 30, "mindre än")]:
        response = admin_client_.get(access, {"campaign": value, "user": staff_user.username})
        page = response.content.decode()
        assert response.status_code == 200 and message in page and "is-invalid" in page
        assert page.count("<td>anna</td>") == 2 and "<td>chef</td>" not in page
    page = admin_client_.get(access, {"date_from": "igår"}).content.decode()
    assert "Fyll i ett giltigt datum." in page and page.count("<td>anna</td>") == 2


def test_staff_without_the_audit_permission_see_nothing(staff_client: Client, staff_user: Any, admin_user: Any) -> None:
    """Personal utan audit-rättighet får 403 på fliken och exporten, och ingen länk dit."""
    earlier_views(staff_user, admin_user)
    for params in ({}, {"format": "csv"}, {"user": staff_user.username}):
        response = staff_client.get(reverse("audit:access"), params)
        assert response.status_code == 403
        assert "Kampanjsidan" not in response.content.decode()
    assert "/logg/" not in staff_client.get("/").content.decode()
    assert AccessEvent.objects.filter(actor=staff_user, kind__startswith="access").count() == 0


def test_access_log_holds_ids_never_names_numbers_or_operation(
    staff_client: Client, admin_client_: Client, staff_user: Any
) -> None:
    """Kanarieprov på tabellen: efter visningar av en kampanj med namn, nummer och operationstyp
    finns inget av dem i åtkomstloggen, bara användarnamn, slag och id."""
    campaign = make_campaign(staff_user, operation_type="kanarieplastik")
    staff_client.get(detail(campaign))
    staff_client.get(status(campaign))
    admin_client_.get(reverse("audit:access"))
    admin_client_.get(reverse("audit:access"), {"campaign": campaign.pk, "format": "csv"})
    assert len(logged()) == 4
    needles: list[Any] = [phone_pattern(phone) for _, phone, _ in PATIENTS]
    names = [part for name, _, _ in PATIENTS for part in name.split()] + ["kanarieplastik"]
    needles += [form for word in names for form in text_forms(word)]
    assert leaks(needles, åtkomstlogg=table_text(AccessEvent._meta.db_table)) == []


def test_access_log_is_append_only(staff_user: Any) -> None:
    """En skriven rad går inte att ändra."""
    event = record_access(AccessKind.CAMPAIGN_PAGE, user=staff_user, campaign_id=1)
    event.campaign_id = 2
    with pytest.raises(ValueError, match="ändras inte"):
        event.save()


def test_hourly_purge_removes_rows_older_than_the_retention(settings: Any, staff_user: Any) -> None:
    """Kampanjernas radering varje timme tar också åtkomstloggens rader äldre än
    ACCESS_LOG_RETENTION_DAYS; yngre rader finns kvar."""
    settings.ACCESS_LOG_RETENTION_DAYS = 30
    start = timezone.now()
    with at(start):
        record_access(AccessKind.CAMPAIGN_PAGE, user=staff_user, campaign_id=1)
    with at(start + timedelta(days=2)):
        record_access(AccessKind.CAMPAIGN_PAGE, user=staff_user, campaign_id=2)
    purge_expired(start + timedelta(days=29))
    assert len(logged()) == 2
    purge_expired(start + timedelta(days=30, minutes=1))
    assert logged() == [("anna", AccessKind.CAMPAIGN_PAGE, 2)]


def test_data_protection_page_tells_of_the_access_log(client: Client, settings: Any, db: Any) -> None:
    """Dataskyddspolicyn säger att åtkomstloggen finns och hur länge den sparas."""
    page = client.get("/dataskydd/").content.decode()
    # Standard 5 × 365 + 2 dagar (skottdagar): "5 år", inte "1827 dagar".
    assert "En åtkomstlogg visar vem i personalen" in page and "Åtkomstloggen sparas i 5 år och raderas" in page
    settings.ACCESS_LOG_RETENTION_DAYS = 365
    assert "Åtkomstloggen sparas i 1 år och raderas" in client.get("/dataskydd/").content.decode()
    settings.ACCESS_LOG_RETENTION_DAYS = 400
    assert "Åtkomstloggen sparas i 400 dagar och raderas" in client.get("/dataskydd/").content.decode()


def test_retention_below_one_day_stops_startup() -> None:
    """ACCESS_LOG_RETENTION_DAYS=0 stoppar starten med ett svenskt besked; ett giltigt värde läses."""
    refused = manage("check", env=production_env(ACCESS_LOG_RETENTION_DAYS="0"))
    assert refused.returncode != 0 and "ACCESS_LOG_RETENTION_DAYS ska vara minst 1" in refused.stderr
    script = "from django.conf import settings; print(settings.ACCESS_LOG_RETENTION_DAYS)"
    read = manage("shell", "--no-imports", "-c", script, env=production_env(ACCESS_LOG_RETENTION_DAYS="90"))
    assert read.stdout.strip() == "90", read.stderr


@pytest.mark.parametrize("name", ["audit:log", "audit:access"])
def test_a_signed_out_visitor_is_sent_to_the_login(client: Client, name: str) -> None:
    """Utan inloggning (t.ex. en administratör vars session gått ut och som laddar om loggen):
    inloggningen, och sedan tillbaka till loggen; inte "Åtkomst nekad", som om rättigheten saknades."""
    response = client.get(reverse(name), {"format": "csv"})
    assert response.status_code == 302
    login, _, next_url = response["Location"].partition("?next=")
    assert login == reverse("accounts:login") and unquote(next_url) == reverse(name) + "?format=csv"
