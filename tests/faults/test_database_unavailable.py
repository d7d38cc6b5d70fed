"""Databasen låst eller nere en stund mitt i ett patientsvar (och på personalens sidor).

Låsen är riktiga: en annan anslutning håller skrivlåset (SQLite) eller låser kampanjens rad
(PostgreSQL), och portalens anslutning väntar bara en kort stund (busy_timeout/lock_timeout)
i stället för drift-värdena. Patienten får sidan "Tekniskt fel – försök igen om en stund"
med 503, inget blir halvskrivet (inget svar, ingen JA-plats, ingen händelse, ingen avisering),
och samma knapptryckning efteråt fungerar.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import OperationalError, connection, connections
from django.test import Client, override_settings

from audit.models import AuditEvent
from campaigns.events import group_name
from campaigns.models import Campaign, Recipient
from tests.campaigns.factories import make_campaign, recipient, send_all

pytestmark = pytest.mark.django_db(transaction=True)

TITLE = "Tekniskt fel – försök igen om en stund"
SHORT_WAIT_MS = 200


@contextmanager
def short_lock_wait() -> Iterator[None]:
    """Portalens anslutning väntar bara SHORT_WAIT_MS på lås (drift: 20 s på SQLite) under blocket."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {SHORT_WAIT_MS}")
        else:
            cursor.execute(f"SET lock_timeout = '{SHORT_WAIT_MS}ms'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                cursor.execute("PRAGMA busy_timeout = 20000")
            else:
                cursor.execute("RESET lock_timeout")


@contextmanager
def database_locked(campaign: Campaign) -> Iterator[None]:
    """En annan anslutning håller låset: hela databasens skrivlås (SQLite) eller kampanjens rad (PostgreSQL)."""
    other = connections.create_connection("default")
    try:
        other.ensure_connection()
        raw = other.connection
        if other.vendor == "sqlite":
            raw.execute("BEGIN IMMEDIATE")
        else:
            raw.autocommit = False
            raw.execute("SELECT id FROM campaigns_campaign WHERE id = %s FOR UPDATE", [campaign.pk])
        with short_lock_wait():
            yield
        raw.rollback()
    finally:
        other.close()


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj med skickade SMS och ett aviseringsnummer till personalen."""
    campaign = make_campaign(staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(notify_phone="+46709990001")
    send_all(campaign)
    return campaign


def group_messages(campaign: Campaign) -> Callable[[], list[dict[str, Any]]]:
    """Lyssnar på kampanjens grupp i kanal-lagret som en öppen kampanjsida; ger en funktion som tömmer kanalen.

    Kanal-lagret i minnet även med Redis: Redis-lagrets köer binds till en händelseloop, och
    testet lyssnar från flera (det som prövas är att händelsen skickas, inte transporten).
    """
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(group_name(campaign.pk), channel)
    received: list[dict[str, Any]] = []

    def drain() -> list[dict[str, Any]]:
        """Hämtar allt som väntar i kanalen (kort tidsgräns per meddelande)."""
        import asyncio

        async def take() -> None:
            """Tar emot tills kanalen är tom."""
            while True:
                try:
                    received.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
                except asyncio.TimeoutError:
                    return

        async_to_sync(take)()
        return received

    return drain


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_locked_database_during_answer_gives_retry_page_and_nothing_half_written(
    campaign: Campaign, caplog: pytest.LogCaptureFixture
) -> None:
    """Svaret under ett lås: 503 och svensk "försök igen"-sida; inget sparat; samma svar efteråt går."""
    phone = Client(enforce_csrf_checks=True)
    anna = recipient(campaign, "Anna Andersson")
    drain = group_messages(campaign)

    page = phone.get(f"/s/{anna.code}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    with database_locked(campaign):
        response = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert TITLE in body and "Ditt svar har <strong>inte</strong> sparats" in body
    assert "Traceback" not in body and "OperationalError" not in body and "locked" not in body
    assert "Södermalms Ortopedi" in body and response["Cache-Control"].startswith("max-age=0")

    anna.refresh_from_db()
    assert (anna.answer, anna.answered_at, anna.yes_rank) == ("", None, None)
    assert Campaign.objects.get(pk=campaign.pk).alert_sent_at is None  # ingen avisering köad
    assert drain() == []  # ingen händelse till personalens sidor
    assert anna.code not in caplog.text  # loggen har inte patientens länk
    assert "Databasen svarade inte (OperationalError)" in caplog.text

    retried = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    assert retried.status_code == 302
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank) == (Recipient.Answer.YES, 1)
    thanks = phone.get(f"/s/{anna.code}").content.decode()
    assert "Vi ringer dig inom kort för att bekräfta." in thanks
    assert len(drain()) >= 1  # nu når svaret personalens sidor


def test_staff_page_during_outage_gets_the_same_retry_page(staff_client: Client, campaign: Campaign) -> None:
    """ "Tiden är tillsatt" under ett lås: samma 503-sida för personalen, kampanjen oförändrad, sedan går det."""
    url = f"/personal/akut-sms/{campaign.pk}/tillsatt/"
    with database_locked(campaign):
        response = staff_client.post(url)
    body = response.content.decode()
    assert response.status_code == 503 and TITLE in body and "Inget har sparats." in body
    assert "Traceback" not in body and "Felkod 503" in body
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE
    assert staff_client.post(url).status_code == 302
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FILLED


def test_database_gone_before_the_view_is_not_a_500(staff_client: Client, campaign: Campaign) -> None:
    """Databasen borta redan när sessionen läses (före vyn): 503-sidan, aldrig felsidan 500."""
    staff = Client(raise_request_exception=False)
    staff.cookies = staff_client.cookies

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Som en PostgreSQL som startas om: varje fråga nekas."""
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        response = staff.get(f"/personal/akut-sms/{campaign.pk}/")
    assert response.status_code == 503
    assert TITLE in response.content.decode() and "Något gick fel" not in response.content.decode()
    assert staff.get(f"/personal/akut-sms/{campaign.pk}/").status_code == 200


# --- Databasen faller mitt i svarets transaktion, efter att mottagarens rad uppdaterats ------------

#: Var felet slår till. Alla utom "commit" är en SQL-fråga som databasen vägrar; "commit" är
#: själva COMMIT. Varje punkt ligger efter UPDATE av mottagarens svar i `record_answer`.
FAILURE_POINTS = {
    # Aviseringens villkorliga UPDATE av kampanjen (`queue_staff_alert`): raden är låst.
    "aviseringen": (
        "database is locked",
        lambda sql: sql.startswith('UPDATE "campaigns_campaign"') and "alert_sent_at" in sql,
    ),
    # Databasen försvinner direkt efter svarets UPDATE: varje senare fråga nekas.
    "databasen försvinner": ("server closed the connection unexpectedly", lambda sql: True),
    # COMMIT misslyckas (anslutningen bröts just då): Django rullar tillbaka.
    "commit": ("server closed the connection unexpectedly", lambda sql: False),
}


class FailAfterAnswerUpdate:
    """Släpper igenom frågorna tills mottagarens svar har uppdaterats och fäller sedan en senare fråga
    (eller COMMIT) med OperationalError – en gång. Minns att svarets UPDATE verkligen kördes, och
    att det skedde inne i en transaktion: det finns alltså något halvskrivet att rulla tillbaka.
    """

    def __init__(self, point: str) -> None:
        """Felet och vilken fråga det gäller, ur FAILURE_POINTS."""
        self.message, self.matches = FAILURE_POINTS[point]
        self.point = point
        self.answer_updated_in_transaction: bool | None = None
        self.failed_sql: str | None = None

    @property
    def armed(self) -> bool:
        """Sant när svarets UPDATE har körts men felet ännu inte slagit till."""
        return self.answer_updated_in_transaction is not None and self.failed_sql is None

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Djangos execute_wrapper: kör frågan, eller fäller den om den är den utvalda."""
        if self.armed and self.matches(sql):
            self.failed_sql = sql
            raise OperationalError(self.message)
        result = execute(sql, params, many, context)
        if sql.startswith('UPDATE "campaigns_recipient"') and '"answer"' in sql:
            self.answer_updated_in_transaction = connection.in_atomic_block
        return result

    @contextmanager
    def installed(self) -> Iterator[None]:
        """Gäller under blocket: på portalens anslutning, och för "commit" även på dess COMMIT."""
        wrapper = connections["default"]
        real_commit = wrapper._commit

        def commit() -> Any:
            """COMMIT som misslyckas en gång när svaret väntar på att sparas."""
            if self.point == "commit" and self.armed:
                self.failed_sql = "COMMIT"
                raise OperationalError(self.message)
            return real_commit()

        wrapper._commit = commit
        try:
            with connection.execute_wrapper(self):
                yield
        finally:
            del wrapper._commit  # tillbaka till klassens metod


@pytest.fixture
def queued_alerts(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Aviseringsjobben som köas (kön själv prövas i test_redis_down.py); ger listan med jobbens argument."""
    queued: list[tuple[Any, ...]] = []

    def record_task(func: str, *args: Any, **kwargs: Any) -> str:
        """Noterar jobbet i stället för att lägga det i kön."""
        queued.append((func, *args))
        return f"avisering-{len(queued)}"

    monkeypatch.setattr("campaigns.alerts.async_task", record_task)
    return queued


def csrf_token(phone: Client, code: str) -> str:
    """Öppnar patientens sida som patienten gör och ger formulärets CSRF-token."""
    page = phone.get(f"/s/{code}").content.decode()
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


def assert_retry_page(response: Any) -> None:
    """503 med patientens svenska sida "försök igen", utan tekniska detaljer."""
    body = response.content.decode()
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert TITLE in body and "Ditt svar har <strong>inte</strong> sparats" in body
    for technical in ("Traceback", "OperationalError", "locked", "connection", "campaigns_"):
        assert technical not in body, technical


def assert_answered_once(phone: Client, token: str, campaign: Campaign, queued_alerts: list[tuple[Any, ...]]) -> None:
    """Samma knapptryckning igen sparar JA exakt en gång: plats 1, en avisering; ett tredje tryck ändrar inget."""
    anna = recipient(campaign, "Anna Andersson")
    assert phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token}).status_code == 302
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank) == (Recipient.Answer.YES, 1) and anna.answered_at is not None
    answered_at = anna.answered_at
    assert phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token}).status_code == 302
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank, anna.answered_at) == (Recipient.Answer.YES, 1, answered_at)
    assert campaign.recipients.filter(yes_rank__isnull=False).count() == 1
    assert queued_alerts == [("campaigns.tasks.send_staff_alert", campaign.pk)]
    assert Campaign.objects.get(pk=campaign.pk).alert_sent_at is not None
    assert "Vi ringer dig inom kort för att bekräfta." in phone.get(f"/s/{anna.code}").content.decode()


@pytest.mark.parametrize("point", list(FAILURE_POINTS))
@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_failure_after_the_answer_update_rolls_back_the_whole_answer(
    campaign: Campaign, queued_alerts: list[tuple[Any, ...]], caplog: pytest.LogCaptureFixture, point: str
) -> None:
    """Felet kommer efter att svaret skrivits i transaktionen: 503 "försök igen", svaret rullas tillbaka
    helt (inget svar, ingen JA-plats, ingen svarstid, ingen audit, ingen händelse, ingen avisering),
    och samma svar efteråt sparas exakt en gång."""
    phone = Client(enforce_csrf_checks=True)
    anna = recipient(campaign, "Anna Andersson")
    token = csrf_token(phone, anna.code)
    drain = group_messages(campaign)
    audit_before = AuditEvent.objects.count()

    failure = FailAfterAnswerUpdate(point)
    with failure.installed():
        response = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    assert failure.answer_updated_in_transaction is True, "svarets UPDATE kördes aldrig i en transaktion"
    assert failure.failed_sql is not None, "felet slog aldrig till: testet prövar då ingenting"
    assert_retry_page(response)
    assert "Databasen svarade inte (OperationalError)" in caplog.text and anna.code not in caplog.text

    anna.refresh_from_db()
    assert (anna.answer, anna.answered_at, anna.yes_rank) == ("", None, None)
    assert not campaign.recipients.exclude(answer="").exists()
    fresh = Campaign.objects.get(pk=campaign.pk)
    assert (fresh.status, fresh.alert_sent_at) == (Campaign.Status.ACTIVE, None)
    assert AuditEvent.objects.count() == audit_before
    assert queued_alerts == []  # ingen avisering köad
    assert drain() == []  # ingen händelse till personalens sidor

    assert_answered_once(phone, token, campaign, queued_alerts)
    assert len(drain()) >= 1  # nu når svaret personalens sidor


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_failed_commit_when_changing_yes_to_no_keeps_the_earlier_yes(
    campaign: Campaign, queued_alerts: list[tuple[Any, ...]]
) -> None:
    """Patienten ändrar JA till NEJ och COMMIT misslyckas: 503, och det tidigare JA står kvar orört (plats och tid)."""
    phone = Client(enforce_csrf_checks=True)
    anna = recipient(campaign, "Anna Andersson")
    token = csrf_token(phone, anna.code)
    assert phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token}).status_code == 302
    anna.refresh_from_db()
    before = (anna.answer, anna.answered_at, anna.yes_rank)
    assert before[0] == Recipient.Answer.YES and before[2] == 1
    drain = group_messages(campaign)

    failure = FailAfterAnswerUpdate("commit")
    with failure.installed():
        response = phone.post(f"/s/{anna.code}", {"svar": "nej", "csrfmiddlewaretoken": token})
    assert failure.answer_updated_in_transaction is True and failure.failed_sql == "COMMIT"
    assert_retry_page(response)
    anna.refresh_from_db()
    assert (anna.answer, anna.answered_at, anna.yes_rank) == before
    assert drain() == []

    assert phone.post(f"/s/{anna.code}", {"svar": "nej", "csrfmiddlewaretoken": token}).status_code == 302
    anna.refresh_from_db()
    assert (anna.answer, anna.yes_rank) == (Recipient.Answer.NO, None) and anna.answered_at > before[1]
    assert len(queued_alerts) == 1  # bara det första JA:t aviserades
    assert len(drain()) >= 1


@override_settings(CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}})
def test_database_down_during_answer_gives_retry_page(
    campaign: Campaign, queued_alerts: list[tuple[Any, ...]], caplog: pytest.LogCaptureFixture
) -> None:
    """Databasen nere (anslutningen nekas) när patienten öppnar sidan och när hon svarar: 503-sidan på
    svenska båda gångerna, inget sparat, och samma svar när databasen är tillbaka sparas exakt en gång."""
    phone = Client(enforce_csrf_checks=True, raise_request_exception=False)
    anna = recipient(campaign, "Anna Andersson")
    token = csrf_token(phone, anna.code)
    drain = group_messages(campaign)
    audit_before = AuditEvent.objects.count()
    refused: list[str] = []

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Som en databas som inte tar emot anslutningar: varje fråga nekas."""
        refused.append(sql)
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with connection.execute_wrapper(refuse):
        opened = phone.get(f"/s/{anna.code}")
        response = phone.post(f"/s/{anna.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    assert refused, "ingen fråga nådde databasen: testet prövar då ingenting"
    assert opened.status_code == 503 and TITLE in opened.content.decode()
    assert "Sidan kunde inte visas just nu" in opened.content.decode()
    assert_retry_page(response)
    assert "Något gick fel" not in response.content.decode()
    assert caplog.text.count("Databasen svarade inte (OperationalError)") == 2 and anna.code not in caplog.text

    anna.refresh_from_db()
    assert (anna.answer, anna.answered_at, anna.yes_rank) == ("", None, None)
    assert Campaign.objects.get(pk=campaign.pk).alert_sent_at is None
    assert AuditEvent.objects.count() == audit_before
    assert queued_alerts == [] and drain() == []

    assert_answered_once(phone, token, campaign, queued_alerts)
