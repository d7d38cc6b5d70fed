"""Kanarieprov för hela systemet: varje flöde med påhittade nummer, namn och texter, sedan en
sökning i hela databasen (django-q2:s tabeller avkodade), cachen (Redis när REDIS_URL är satt),
loggarna på DEBUG-nivå (som de fångas och som portalens egna logghanterare skriver dem) och allt
som skrevs ut.

Före radering får namn, operationstyp och personalens nummer finnas (datakartan), men aldrig ett
patientnummer eller en SMS-text. Patienternas svarskoder (lösenord till deras sidor) och webhook-
token får aldrig stå i portalens logg eller i utskrifterna, inte heller efter flöden som skriver ut
sökvägar: CSRF-fel, 404, 405 och 500 under /s/<kod>, webhooks med fel token och token i sökvägen.
Efter radering finns ingenting kvar av kampanjen.

Numren söks i varje skrivsätt (siffrorna med skiljetecken emellan, även URL-kodade), texterna och
ett särskiljande stycke ur varje sorts SMS i varje kodning (JSON, HTML, URL, UTF-8, UCS-2, base64).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf

from audit.models import AccessEvent, AccessKind, Action, AuditEvent
from campaigns.dispatch import requeue_stuck_recipients
from campaigns.models import Campaign, Recipient
from replies import views as reply_views
from smsportal.models import Purpose, SendAttempt
from templates_app.models import MessageTemplate
from tests.fakes.elks46_server import FakeElks46
from tests.privacy import (
    Needle,
    cache_text,
    database_text,
    digits_pattern,
    leaks,
    phone_forms,
    phone_pattern,
    portal_log,
    text_forms,
)
from tests.replies.test_reply_page import answer, url
from tests.smsportal.test_backend_elks46 import TOKEN, elks_settings, fake  # noqa: F401 – fixturer

ONE_WAY_PHONE = "+46709876543"
ONE_WAY_TEXT = "Kanarietext ZQ4XW om din remiss, som ingen annan får läsa"
INVALID_PHONE = "070-987 65 4"
CONSENT_PHONE = "+46769876542"
VAGUE_PHONE = "+46729876549"
STAFF_PHONE = "+46739876541"
CONSENT_NAME = "Zelmira Kanariesson"
VAGUE_NAME = "Oswin Sparvqvist"
OPERATION = "kanarieplastik"
#: Raderna som felflödena ger i portalens logg, med svarskod och token bortrensade.
REDACTED_LINES = [
    "Forbidden (CSRF cookie not set.): /s/[kod]",
    "Not Found: /s/[kod]",
    "Method Not Allowed (PUT): /s/[kod]",
    "Internal Server Error: /s/[kod]",
    "Oväntat fel vid uppslagning av /s/[kod]",
    "Not Found: /webhooks/sms/46elks/[token]/",
]


def number_needles(*phones: str) -> list[Needle]:
    """Numren i de fasta skrivsätten och som uttryck över siffrorna (alla andra skrivsätt)."""
    return [needle for phone in phones for needle in (*phone_forms(phone), phone_pattern(phone))]


def post_one_way(client: Client, phone: str) -> int:
    """Skickar sändformuläret med kanarietexten och returnerar statuskoden."""
    template = MessageTemplate.objects.get(title="Väntetider")
    data = {"template": template.pk, "phone": phone, "body": ONE_WAY_TEXT, "request_id": str(uuid.uuid4())}
    return client.post("/", data).status_code


def one_way_flows(client: Client, settings: Any, fake: FakeElks46) -> None:
    """Envägs-SMS: skickat, vägrat av leverantören, osäkert (tidsgräns efter sändning) och ogiltigt."""
    assert post_one_way(client, "070-987 65 43") == 302
    with override_settings(SMS_PROVIDERS=["tests.fakes.backends.RejectingBackend"]):
        assert post_one_way(client, "0709876543") == 200
    settings.SMS_TIMEOUT_SECONDS, fake.delay = 0.3, 1.0
    assert post_one_way(client, "+46 70 987 65 43") == 200
    settings.SMS_TIMEOUT_SECONDS, fake.delay = 5.0, 0.0
    assert post_one_way(client, INVALID_PHONE) == 200
    actions = list(AuditEvent.objects.filter(action__startswith="sms_").order_by("pk").values_list("action", flat=True))
    # Det ogiltiga numret stoppas i formuläret: inget sändförsök, ingen rad i audit eller registret.
    assert actions == [Action.SMS_SENT, Action.SMS_FAILED, Action.SMS_UNCERTAIN]
    assert list(SendAttempt.objects.order_by("pk").values_list("status", flat=True)) == ["sent", "failed", "uncertain"]


def create_campaign(client: Client, capture: Any) -> Campaign:
    """Personalen förhandsgranskar och skickar en kampanj. Sändjobben ligger först i den riktiga
    kön (databasen eller Redis) och söks igenom där; sedan kör django-q2 dem i processen."""
    data = {
        "slot_date": (timezone.localdate() + timedelta(days=1)).isoformat(),
        "slot_time": "09:15",
        "operation_type": OPERATION,
        "recipients": f"{CONSENT_NAME}, 076-987 65 42, ja\n{VAGUE_NAME}; 0729876549; nej",
        "notify_phone": "073-987 65 41",
        "request_id": str(uuid.uuid4()),
    }
    preview = client.post(reverse("campaigns:list"), data).content.decode()
    assert "Hej Zelmira! En operationstid för din kanarieplastik" in preview
    assert "073-987 ****" in preview
    Conf.SYNC = False
    try:
        with capture(execute=True):
            assert client.post(reverse("campaigns:list"), {**data, "skicka": "1"}).status_code == 302
    finally:
        Conf.SYNC = True
    broker = get_broker()
    assert broker.queue_size() == 2  # ett jobb per mottagare väntar i kön
    queued = database_text() + "\n" + cache_text()
    assert leaks(number_needles(CONSENT_PHONE, VAGUE_PHONE), kö=queued) == [], "ett patientnummer låg i kön"
    broker.delete_queue()
    assert requeue_stuck_recipients(older_than=timedelta(0)) == 2  # nu körs jobben, i processen
    return Campaign.objects.get()


def patients_answer(campaign: Campaign, capture: Any) -> None:
    """Patienterna öppnar sina länkar och svarar; första JA ger personalen ett SMS."""
    zelmira = campaign.recipients.get(name=CONSENT_NAME)
    oswin = campaign.recipients.get(name=VAGUE_NAME)
    phone = Client(enforce_csrf_checks=True)
    assert "Hej Zelmira!" in phone.get(url(zelmira)).content.decode()
    assert Client().post(url(zelmira) + "/oppnad").status_code == 204
    with capture(execute=True):
        answer(phone, zelmira, "ja")
        answer(phone, zelmira, "nej")  # ändrar sig …
        answer(phone, zelmira, "ja")  # … och ändrar sig tillbaka
        other = Client(enforce_csrf_checks=True)
        assert "Oswin" not in other.get(url(oswin)).content.decode()
        answer(other, oswin, "nej")
        answer(other, oswin, "ja")
    assert dict(campaign.recipients.values_list("name", "answer")) == {CONSENT_NAME: "yes", VAGUE_NAME: "yes"}


def delivery_reports(client: Client) -> None:
    """46elks rapporterar leverans för varje skickat SMS genom den riktiga webhooken."""
    ids = list(Recipient.objects.order_by("pk").values_list("provider_message_id", flat=True))
    ids += list(
        SendAttempt.objects.filter(purpose=Purpose.ONE_WAY, status="sent").values_list("provider_message_id", flat=True)
    )
    for number, message_id in enumerate(ids):
        status = "failed" if number == 1 else "delivered"
        body = urlencode({"id": message_id, "status": status, "delivered": "2026-05-04T13:38:15.123000"})
        response = client.post(
            f"/webhooks/sms/46elks/?token={TOKEN}", body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 200


def reply_page_errors(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> None:
    """Felen som loggar patientens sökväg: CSRF-fel (svar utan token), 404, 405 och ett oväntat fel
    (500) vars undantagstext innehåller sökvägen."""
    code = campaign.recipients.get(name=CONSENT_NAME).code
    assert Client(enforce_csrf_checks=True).post(f"/s/{code}", {"svar": "ja"}).status_code == 403
    assert Client().get(f"/s/{code}/").status_code == 404
    assert Client().put(f"/s/{code}").status_code == 405

    def broken_lookup(given: str) -> None:
        """Ett oväntat fel mitt i vyn, med sökvägen i felmeddelandet."""
        raise RuntimeError(f"Oväntat fel vid uppslagning av /s/{given}")

    with monkeypatch.context() as patch:
        patch.setattr(reply_views, "find_by_code", broken_lookup)
        assert Client(raise_request_exception=False).get(f"/s/{code}").status_code == 500


def webhook_mistakes(client: Client) -> None:
    """Webhooken med fel token (403) och med token i sökvägen i stället för i frågesträngen (404)."""
    body = urlencode({"id": "s0", "status": "delivered"})
    wrong = client.post("/webhooks/sms/46elks/?token=fel-token", body, content_type="application/x-www-form-urlencoded")
    assert wrong.status_code == 403
    in_path = client.post(f"/webhooks/sms/46elks/{TOKEN}/", body, content_type="application/x-www-form-urlencoded")
    assert in_path.status_code == 404


def secret_needles(campaign: Campaign) -> list[str]:
    """Mottagarnas svarskoder och webhook-token (i alla kodningar)."""
    codes = list(campaign.recipients.values_list("code", flat=True))
    assert len(codes) == 2
    return [*codes, *text_forms(TOKEN)]


def staff_follow_up(staff: Client, admin: Client, campaign: Campaign) -> str:
    """Personalen ser läget, bokar första JA ("Bokad") och läser audit-sidan och CSV:n; returnerar sidorna."""
    detail = reverse("campaigns:detail", args=[campaign.pk])
    page = staff.get(detail).content.decode()
    assert ">levererat<" in page and ">ej levererat<" in page
    first = staff.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()["rows"][0]
    assert first["role"] == "Ring först"
    booked = {"recipient": first["id"], "outcome": "booked"}
    assert staff.post(reverse("campaigns:outcome", args=[campaign.pk]), booked).status_code == 302
    snapshot = staff.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    assert snapshot["campaign"]["is_open"] is False and snapshot["counts"]["yes"] == 2
    assert [row["role"] for row in snapshot["rows"]] == ["Bokad", "Reserv 1"]
    assert snapshot["campaign"]["booked_name"] == first["name"]
    zelmira = campaign.recipients.get(name=CONSENT_NAME)
    assert "Tiden är inte längre ledig" in Client().get(url(zelmira)).content.decode()
    audit_page = admin.get(reverse("audit:log")).content.decode()
    audit_csv = admin.get(reverse("audit:log"), {"format": "csv"}).content.decode()
    assert "Avisering till personal" in audit_page and "osäkert" in audit_csv
    access_csv = admin.get(reverse("audit:access"), {"campaign": campaign.pk, "format": "csv"}).content.decode()
    # Åtkomstloggen har visningarna (och söks sedan som resten av databasen, även efter radering).
    assert {(AccessKind.CAMPAIGN_PAGE, campaign.pk), (AccessKind.CAMPAIGN_STATUS, campaign.pk)} <= set(
        AccessEvent.objects.values_list("kind", "campaign_id")
    )
    return "\n".join([page, str(snapshot), audit_page, audit_csv, access_csv])


def sent_sms(fake: FakeElks46) -> list[dict[str, str]]:
    """Varje SMS som gick till (låtsas-)46elks, i sändordning: fälten `to` och `message`."""
    return [request.form_fields() for request in fake.requests if request.path == "/a1/sms"]


def fragment(text: str, start: str, end: str) -> str:
    """Stycket av SMS-texten från `start` till och med `end`: minst 20 tecken och med å, ä eller ö,
    så att det är entydigt och prövar kodningarna av svenska tecken. Kort, så att också en text
    som lagrats eller loggats avkortad hittas."""
    first = text.index(start)
    piece = text[first : text.index(end, first) + len(end)]
    assert len(piece) >= 20 and re.search("[åäö]", piece), piece
    return piece


def text_fragments(texts: list[str], campaign: Campaign) -> list[str]:
    """Ett särskiljande stycke ur varje sorts SMS: envägs, med samtycke, vagt (länken) och aviseringen."""
    vague_code = campaign.recipients.get(name=VAGUE_NAME).code
    return [
        fragment(texts[0], "som ingen", "läsa"),
        fragment(texts[2], "Hej Zelmira", "för"),
        fragment(texts[3], "Först till kvarn", vague_code),
        fragment(texts[4], "JA från", "tiden"),
    ]


def text_needles(texts: list[str], fragments: list[str]) -> list[str]:
    """Hela SMS-texterna, deras första rad (namn, operationstyp, länk) och de särskiljande styckena,
    var och en i alla kodningar."""
    needles = [*texts, *(text.splitlines()[0] for text in texts), *fragments]
    return [form for needle in needles for form in text_forms(needle)]


@pytest.fixture
def portal_output() -> Iterator[StringIO]:
    """Det portalens logghanterare skriver under testet (i stället för stderr)."""
    with portal_log() as written:
        yield written


def debug_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    """DEBUG för roten och för varje logger, även dem inställningarna håller tysta (django.request)."""
    caplog.set_level(logging.DEBUG)
    for name in list(logging.root.manager.loggerDict):
        caplog.set_level(logging.DEBUG, logger=name)


def scan(caplog: pytest.LogCaptureFixture, log: str, printed: str, pages: str = "") -> dict[str, str]:
    """Alla höstackar: databasen (django-q2 avkodad), cachen, loggposterna som de fångas, portalens
    logg som dess hanterare skriver den, utskrifterna och sidorna."""
    return {
        "databas": database_text(),
        "cache": cache_text(),
        "loggar": caplog.text,
        "portallogg": log,
        "utskrift": printed,
        "sidor": pages,
    }


def outputs(haystacks: dict[str, str]) -> dict[str, str]:
    """Det som skrivs ut: portalens logg och utskrifterna (där svarskoder och token aldrig får stå)."""
    return {name: haystacks[name] for name in ("portallogg", "utskrift")}


def test_canary_through_every_flow(
    staff_client: Client,
    admin_client_: Client,
    fake: FakeElks46,  # noqa: F811 – fixturen från 46elks-testerna
    elks_settings: Any,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
    portal_output: StringIO,
) -> None:
    """Envägs-SMS, kampanj, svar, felsidor, avisering, leveransrapporter, tillsättning, audit och
    radering: inget patientnummer och ingen SMS-text någonstans, ingen svarskod eller webhook-token i
    loggen eller utskrifterna; efter radering inget alls av kampanjen."""
    debug_everywhere(caplog)
    cache.clear()  # patientsidornas IP-gräns räknas annars vidare från tidigare tester (Redis delas)
    monkeypatch.setattr(Conf, "SYNC", True)  # django-q2 kör jobben i processen, med Task-rader
    one_way_flows(staff_client, elks_settings, fake)
    campaign = create_campaign(staff_client, django_capture_on_commit_callbacks)
    patients_answer(campaign, django_capture_on_commit_callbacks)
    reply_page_errors(campaign, monkeypatch)
    webhook_mistakes(Client())
    delivery_reports(Client())
    pages = staff_follow_up(staff_client, admin_client_, campaign)

    texts = [sms["message"] for sms in sent_sms(fake)]
    assert [sms["to"] for sms in sent_sms(fake)] == [
        ONE_WAY_PHONE,
        ONE_WAY_PHONE,
        CONSENT_PHONE,
        VAGUE_PHONE,
        STAFF_PHONE,
    ]
    assert "Zelmira" in texts[2] and OPERATION in texts[2]
    assert "Oswin" not in texts[3] and OPERATION not in texts[3]
    patient_numbers = number_needles(ONE_WAY_PHONE, CONSENT_PHONE, VAGUE_PHONE)
    invalid = [INVALID_PHONE, digits_pattern(re.sub(r"\D", "", INVALID_PHONE)[1:])]
    sms_texts = text_needles([*texts, ONE_WAY_TEXT], text_fragments(texts, campaign))
    numbers_and_texts = [*patient_numbers, *invalid, *sms_texts, "ZQ4XW"]
    secret_values = secret_needles(campaign)
    out, err = capfd.readouterr()
    before = scan(caplog, portal_output.getvalue(), out + err, pages)
    assert '"POST /a1/sms HTTP/1.1" 200' in before["loggar"]  # urllib3:s DEBUG-logg fångades
    assert leaks(numbers_and_texts, **before) == [], "patientnummer eller SMS-text läckte före radering"
    assert leaks(secret_values, **outputs(before)) == [], "svarskod eller webhook-token i loggen eller utskrifterna"
    # Felen loggades, med sökvägen rensad (annars vore sökningen ovan utan värde).
    for line in REDACTED_LINES:
        assert line in before["portallogg"], line
    # Sökningen ser det datakartan tillåter fram till raderingen: namn, operationstyp, personalens
    # nummer (också som uttryck). Patienternas maskerade nummer och nyckelhash finns men träffas inte.
    masked = ["076-987 ****", "072-987 ****"]
    allowed = [CONSENT_NAME, OPERATION, STAFF_PHONE, phone_pattern(STAFF_PHONE), *masked]
    assert len(leaks(allowed, databas=before["databas"])) == 6

    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        stdout = StringIO()
        call_command("purge_campaigns", stdout=stdout)
    assert stdout.getvalue().startswith("Raderade 1 kampanj(er)")
    assert AccessEvent.objects.filter(campaign_id=campaign.pk).exists()  # åtkomstloggen finns kvar och söks
    names = [CONSENT_NAME, VAGUE_NAME, "Zelmira", "Kanariesson", "Oswin", "Sparvqvist", OPERATION]
    name_forms = [form for name in names for form in text_forms(name)]
    everything = [*numbers_and_texts, *number_needles(STAFF_PHONE), *name_forms]
    out, err = capfd.readouterr()
    after = scan(caplog, portal_output.getvalue(), out + err)
    assert leaks(everything, **after) == [], "något av kampanjen fanns kvar efter radering"
    kept = {name: text for name, text in after.items() if name != "loggar"}  # loggposterna före filtret
    assert leaks(secret_values, **kept) == [], "en svarskod eller webhook-token fanns kvar efter radering"
