"""Hälsokontrollen /healthz: 200 när allt fungerar, 503 som namnger delen som fallerat.

Databasen nere simuleras som i tests/faults/test_database_unavailable.py (varje fråga nekas),
Redis nere som i tests/faults/test_redis_down.py (cache, kanal-lager och kö mot en stängd
port). Klustrets livstecken skrivs av django-q2 självt: schemaläggaren kör minutschemat och
jobbet går genom django-q2:s arbetare och monitor (synkront, i testprocessen).
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import Schedule, Task
from django_q.scheduler import scheduler

from campaigns.apps import REQUEUE_SCHEDULE_NAME
from config.health import HEARTBEAT_FUNC
from tests.faults.test_redis_down import redis_down

pytestmark = pytest.mark.django_db

PARTS = ["database", "cache", "cluster", "sms"]


def poll(client: Client | None = None, **extra: Any) -> tuple[int, dict[str, Any], Any]:
    """Frågar /healthz som en övervakare (utan kakor); ger statuskod, JSON och själva svaret."""
    response = (client or Client(raise_request_exception=False)).get("/healthz", **extra)
    assert response["Content-Type"] == "application/json"
    return response.status_code, response.json(), response


@pytest.fixture
def heartbeat(monkeypatch: pytest.MonkeyPatch) -> Task:
    """Kör minutschemat som klustrets schemaläggare gör (bara det schemat är förfallet) och ger jobbet.

    Conf.SYNC: django-q2 kör jobbet genom sin arbetare och monitor i den här processen, och
    monitorn sparar resultatet precis som i ett riktigt kluster.
    """
    schedule = Schedule.objects.get(name=REQUEUE_SCHEDULE_NAME)  # registrerat av migrate (campaigns/apps.py)
    assert schedule.func == HEARTBEAT_FUNC
    now = timezone.now()
    Schedule.objects.exclude(pk=schedule.pk).update(next_run=now + timedelta(days=1))
    Schedule.objects.filter(pk=schedule.pk).update(next_run=now - timedelta(seconds=1))
    monkeypatch.setattr(Conf, "SYNC", True)
    scheduler()
    task = Task.objects.get(func=HEARTBEAT_FUNC)
    assert task.group == REQUEUE_SCHEDULE_NAME and task.success
    return task


def test_all_up_gives_200_with_every_part(heartbeat: Task) -> None:
    """Allt fungerar: 200, status "ok", varje del ok; cachen i Redis med REDIS_URL, annars inbäddad."""
    status, body, _ = poll()
    assert status == 200
    assert (body["status"], body["failing"]) == ("ok", [])
    assert all(body[part]["ok"] is True for part in PARTS)
    assert body["database"]["ms"] >= 0
    if django_settings.REDIS_URL:
        assert body["cache"]["mode"] == "redis" and body["cache"]["ms"] >= 0
    else:
        assert body["cache"] == {"ok": True, "mode": "inbäddat"}
    assert body["cluster"]["last_heartbeat_seconds"] < 60
    assert body["cluster"]["max_age_seconds"] == 300 and body["cluster"]["last_run_succeeded"] is True
    assert body["sms"] == {"ok": True, "providers": ["locmem"]}


def test_head_request_answers_too(heartbeat: Task) -> None:
    """HEAD (vissa övervakare frågar så) ger samma statuskod utan kropp."""
    response = Client().head("/healthz")
    assert response.status_code == 200 and response.content == b""


def test_database_down_gives_503_naming_the_database(heartbeat: Task) -> None:
    """Varje databasfråga nekas: JSON 503 med "database" (inte portalens HTML-sida om tekniskt fel)."""

    def refuse(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        """Som en PostgreSQL som startas om: varje fråga nekas."""
        raise OperationalError("server closed the connection unexpectedly")

    with connection.execute_wrapper(refuse):
        status, body, response = poll()
    assert status == 503 and body["status"] == "fel" and body["failing"] == ["database"]
    assert body["database"] == {"ok": False, "reason": "databasen svarar inte (OperationalError)"}
    assert body["cluster"]["ok"] is None  # okänt, inte ett eget larm
    assert b"Tekniskt fel" not in response.content
    assert poll()[0] == 200  # databasen tillbaka


def test_redis_down_gives_503_naming_the_cache_quickly(heartbeat: Task) -> None:
    """Redis nere (stängd port): 503 med "cache" inom sekunder; adressen syns inte i svaret."""
    with redis_down() as url:
        started = time.monotonic()
        status, body, response = poll()
        elapsed = time.monotonic() - started
    assert status == 503 and body["failing"] == ["cache"]
    assert body["cache"]["ok"] is False and body["cache"]["mode"] == "redis"
    assert body["cache"]["reason"].startswith("Redis svarar inte (")
    assert url.encode() not in response.content and b"127.0.0.1" not in response.content
    assert elapsed < 5


def test_cluster_that_never_ran_gives_503_never() -> None:
    """Nyinstallerat (klustret har aldrig kört minutschemat): 503 med "cluster" och orsaken "aldrig"."""
    status, body, _ = poll()
    assert status == 503 and body["failing"] == ["cluster"]
    assert body["cluster"]["ok"] is False and body["cluster"]["reason"].startswith("aldrig")


def test_stale_heartbeat_gives_503_after_five_minutes(heartbeat: Task) -> None:
    """Klustret stannade: ok i fyra minuter efter senaste körningen, 503 "cluster" efter fem."""
    with time_machine.travel(heartbeat.stopped + timedelta(minutes=4, seconds=50), tick=False):
        status, body, _ = poll()
    assert status == 200 and 290 <= body["cluster"]["last_heartbeat_seconds"] <= 300
    with time_machine.travel(heartbeat.stopped + timedelta(minutes=6), tick=False):
        status, body, _ = poll()
    assert status == 503 and body["failing"] == ["cluster"]
    assert body["cluster"]["last_heartbeat_seconds"] == 360
    assert "för 6 minuter sedan" in body["cluster"]["reason"]


def test_next_scheduled_run_is_a_new_heartbeat(heartbeat: Task, monkeypatch: pytest.MonkeyPatch) -> None:
    """Tio minuter senare kör schemaläggaren minutschemat igen: livstecknet är nytt och svaret 200."""
    later = timezone.now() + timedelta(minutes=10)
    with time_machine.travel(later, tick=False):
        assert poll()[0] == 503
        scheduler()  # Conf.SYNC är fortfarande på (fixturen)
        status, body, _ = poll()
    assert Task.objects.filter(func=HEARTBEAT_FUNC).count() == 2
    assert status == 200 and body["cluster"]["last_heartbeat_seconds"] == 0


@pytest.mark.parametrize(
    ("providers", "misconfigured"),
    [(["locmem", "twilio"], ["twilio"]), (["sinch"], ["sinch"]), (["okand"], ["okand"])],
)
def test_misconfigured_sms_provider_gives_503_naming_sms(
    heartbeat: Task, settings: Any, providers: list[str], misconfigured: list[str]
) -> None:
    """En leverantör utan inloggningsuppgifter (eller okänd): 503 "sms" som namnger den, utan nätverksanrop."""
    settings.SMS_PROVIDERS = providers
    settings.TWILIO_ACCOUNT_SID = settings.TWILIO_AUTH_TOKEN = ""
    settings.SINCH_SERVICE_PLAN_ID = settings.SINCH_API_TOKEN = ""
    status, body, _ = poll()
    assert status == 503 and body["failing"] == ["sms"]
    assert body["sms"]["providers"] == providers and body["sms"]["misconfigured"] == misconfigured


def test_configured_provider_is_ok_without_calling_it(heartbeat: Task, settings: Any) -> None:
    """46elks med alla inställningar, mot en adress där ingen svarar: ok (leverantören anropas aldrig)."""
    settings.SMS_PROVIDERS = ["elks46"]
    settings.ELKS46_API_USERNAME, settings.ELKS46_API_PASSWORD = "u0123456789", "hemligt-losenord"
    settings.ELKS46_BASE_URL = "http://127.0.0.1:9/a1"  # discard-porten: ett anrop skulle ge fel
    settings.SMS_WEBHOOK_TOKEN = "YS-eYONFrz2MIBxtbSNINARJsVOgpMuSpx6YvjdDQ3SGNUWND4VbQqRP7e5iZUSE"
    status, body, response = poll()
    assert status == 200 and body["sms"] == {"ok": True, "providers": ["elks46"]}
    assert b"hemligt-losenord" not in response.content and b"u0123456789" not in response.content


def test_no_cookie_no_session_and_no_store(heartbeat: Task) -> None:
    """Övervakarens frågor skapar ingen session och ingen CSRF-kaka och sparas aldrig i någon cache."""
    client = Client()
    for _ in range(3):
        _, _, response = poll(client)
        assert response.cookies == {} and not client.cookies
        assert "no-store" in response["Cache-Control"]
    assert Session.objects.count() == 0


@override_settings(SECURE_SSL_REDIRECT=True, DEBUG=False)
def test_answers_over_plain_http_with_https_redirect_on(heartbeat: Task) -> None:
    """HTTPS-omdirigeringen på (drift): /healthz svarar ändå över vanlig HTTP, övriga sidor omdirigeras.

    ALLOWED_HOSTS gäller fortfarande: ett okänt Host-huvud ger 400 (fråga med portalens namn).
    """
    client = Client(raise_request_exception=False)
    assert client.get("/konto/logga-in/").status_code == 301
    status, body, response = poll(client)
    assert status == 200 and body["status"] == "ok" and "Strict-Transport-Security" not in response
    assert client.get("/healthz", HTTP_HOST="10.0.0.5:8000").status_code == 400


def test_bounded_number_of_queries(heartbeat: Task, django_assert_max_num_queries: Any) -> None:
    """Billig nog att polla var tionde sekund: högst två databasfrågor, även med många gamla jobb."""
    Task.objects.bulk_create(
        Task(
            id=f"{i:032x}",
            name=f"gammalt-{i}",
            func=HEARTBEAT_FUNC,
            started=heartbeat.started - timedelta(minutes=i),
            stopped=heartbeat.stopped - timedelta(minutes=i),
            success=True,
        )
        for i in range(1, 200)
    )
    with django_assert_max_num_queries(2):
        status, body, _ = poll()
    assert status == 200 and body["cluster"]["last_heartbeat_seconds"] < 60


def test_body_has_no_connection_details(heartbeat: Task) -> None:
    """Svaret avslöjar varken databasens namn, värd eller användare eller Redis-adressen."""
    _, _, response = poll()
    text = response.content.decode()
    database = django_settings.DATABASES["default"]
    for value in (
        database["NAME"],
        database.get("HOST"),
        database.get("USER"),
        database.get("PASSWORD"),
        django_settings.REDIS_URL,
    ):
        if value:
            assert str(value) not in text
    assert set(json.loads(text)) == {"status", "failing", *PARTS}
