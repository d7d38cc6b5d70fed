"""Felrapporter till IT: ett fel mitt i en envägssändning och mitt i ett patientsvar ger ett brev till
ADMINS (och en Sentry-händelse) med feltyp, sökväg och ramar, men aldrig patientens nummer, SMS-texten,
svarskoden, namnet, CSRF-token eller sessionskakan.

Breven prövas med Djangos e-postutkorg (locmem), Sentry med en transport som sparar allt som skulle
ha skickats, initierad med samma funktion som i drift. Med Djangos AdminEmailHandler, eller med
Sentrys standardinställningar, står numret och texten i rapporten och testerna fallerar.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sentry_sdk
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import Client, RequestFactory
from django.utils.log import AdminEmailHandler
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport

from campaigns.dispatch import send_to_recipient
from campaigns.models import Campaign, Recipient
from config.error_reports import (
    SENTRY_EVENT_KEYS,
    ErrorMailHandler,
    check_sentry_dsn,
    email_settings,
    init_sentry,
    parse_admins,
    route_sentry_log,
)
from smsportal.backends.base import BaseBackend, SendResult
from templates_app.models import MessageTemplate
from tests.campaigns.factories import make_campaign, send_all
from tests.config.test_log_redaction import reached_handlers
from tests.privacy import Needle, leaks, phone_forms, phone_pattern, portal_log, text_forms

# `import sentry_sdk` ovan gav Sentrys logg en egen hanterare utan portalens filter; i drift tar
# init_sentry bort den, här redan vid importen (annars ser resten av sviten den).
route_sentry_log()

ADMINS = [("IT-jouren", "it@klinik.example.se")]
PHONE = "+46709871234"
PASTED_PHONE = "070-987 12 34"
SMS_TEXT = "Hej! Din remiss om knäplastik ZX81Q är mottagen, vi hör av oss inom två veckor."
PATIENT = ("Anna Andersson", "+46701234567")
EU_DSN = "https://public@o1.ingest.de.sentry.io/1"


class ProviderCrash(Exception):
    """Ett oväntat fel ur en leverantörs SDK, vars text ekar numret och meddelandet."""


class AlertCrash(Exception):
    """Ett oväntat fel mitt i kampanjens svarstjänst, vars text nämner patienten."""


class CrashingBackend(BaseBackend):
    """En leverantör vars SDK kastar ett oväntat fel (inte SmsError) med numret och texten i."""

    name = "kraschar"

    def send(self, to: str, text: str) -> SendResult:
        """Kastar alltid, och tar med det den fick i felets text (som en del SDK:er gör)."""
        raise ProviderCrash(f"kunde inte skicka till {to}: {text!r}")


class CapturingTransport(Transport):
    """Sentrys transport i testerna: sparar varje kuvert i stället för att skicka det."""

    def __init__(self) -> None:
        """En tom lista med kuvert."""
        super().__init__()
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        """Sparar kuvertet som det skulle ha skickats."""
        self.envelopes.append(envelope)

    def events(self) -> list[dict[str, Any]]:
        """Felhändelserna i de sparade kuverten."""
        return [event for envelope in self.envelopes if (event := envelope.get_event()) is not None]

    def raw(self) -> str:
        """Allt som skulle ha skickats, som text."""
        return "\n".join(envelope.serialize().decode("utf-8", errors="replace") for envelope in self.envelopes)


def mail_handler() -> ErrorMailHandler:
    """Portalens brevhanterare, som LOGGING satte den på roten."""
    found = [handler for handler in logging.root.handlers if isinstance(handler, ErrorMailHandler)]
    assert len(found) == 1, logging.root.handlers
    return found[0]


@pytest.fixture(autouse=True)
def fresh_reports(settings: Any) -> Iterator[None]:
    """ADMINS satt, brevhanteraren utan minne av tidigare fel och en tom cache (patientsidornas IP-gräns)."""
    settings.ADMINS = ADMINS
    settings.ERROR_REPORT_REPEAT_MINUTES = 15
    mail_handler().forget()
    cache.clear()
    yield
    mail_handler().forget()
    cache.clear()


@pytest.fixture
def sentry_transport() -> Iterator[CapturingTransport]:
    """Sentry startad som i drift (init_sentry) men med en transport som bara sparar; stängs efteråt."""
    transport = CapturingTransport()
    init_sentry(EU_DSN, environment="test", transport=transport)
    try:
        yield transport
    finally:
        sentry_sdk.get_client().close()
        sentry_sdk.get_global_scope().set_client(None)
        sentry_sdk.get_isolation_scope().clear()


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj med skickade SMS (numren finns då bara som hash och maskerade)."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    return campaign


def csrf_token(client: Client, path: str) -> str:
    """Sidans CSRF-token, som webbläsaren skickar med formuläret."""
    page = client.get(path).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, f"inget formulär på {path}"
    return match.group(1)


def post_through_wsgi(client: Client, path: str, data: dict[str, Any]) -> tuple[int, str]:
    """Postar formuläret genom portalens riktiga WSGI-applikation (som i drift: Sentrys mellanlager
    ser adress, huvuden, kakor och frågesträng), med webbläsarens kakor ur `client`.
    Returnerar statuskod och sidans text."""
    cookies = "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())
    environ = RequestFactory().post(path, data, HTTP_COOKIE=cookies).environ
    statuses: list[str] = []
    with database_kept_open():
        response = WSGIHandler()(environ, lambda status, headers, exc_info=None: statuses.append(status))
        body = b"".join(response)
        response.close()
    return int(statuses[0].split()[0]), body.decode()


@contextmanager
def database_kept_open() -> Iterator[None]:
    """Som Djangos testklient: begärans början och slut stänger inte databasanslutningen (testets
    transaktion lever kvar; med PostgreSQL-poolen vore anslutningen annars borta mitt i testet)."""
    signals = (request_started, request_finished)
    for signal in signals:
        signal.disconnect(close_old_connections)
    try:
        yield
    finally:
        for signal in signals:
            signal.connect(close_old_connections)


def crash_one_way_send(staff_user: Any, settings: Any) -> tuple[tuple[int, str], list[str]]:
    """Personalen skickar sändformuläret med ett riktigt nummer och en egen text; leverantörens SDK
    kastar. Numret står också i frågesträngen. Returnerar (status, sida) och klientens hemligheter
    (CSRF-token, sessionskaka)."""
    settings.SMS_PROVIDERS = ["tests.config.test_error_reports.CrashingBackend"]
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    token = csrf_token(client, "/")
    template = MessageTemplate.objects.get(title="Väntetider")
    data = {"template": template.pk, "phone": PASTED_PHONE, "body": SMS_TEXT, "request_id": str(uuid.uuid4())}
    response = post_through_wsgi(client, f"/?telefon={PHONE[1:]}", {**data, "csrfmiddlewaretoken": token})
    return response, [token, client.cookies["csrftoken"].value, client.cookies["sessionid"].value]


def crash_patient_answer(campaign: Campaign, monkeypatch: pytest.MonkeyPatch) -> tuple[tuple[int, str], Recipient, str]:
    """Patienten svarar JA och kampanjens svarstjänst kastar mitt i (när personalen ska aviseras).
    Returnerar (status, sida), mottagaren och sidans CSRF-token."""
    person = campaign.recipients.get(name=PATIENT[0])

    def broken_alert(given: Campaign) -> None:
        """Ett oväntat fel vars text nämner patientens namn, nummer och länk."""
        raise AlertCrash(f"avisering om {person.name} {PATIENT[1]} /s/{person.code} i kampanj {given.pk}")

    monkeypatch.setattr("campaigns.services.queue_staff_alert", broken_alert)
    phone = Client(enforce_csrf_checks=True)
    token = csrf_token(phone, f"/s/{person.code}")
    response = post_through_wsgi(phone, f"/s/{person.code}", {"svar": "ja", "csrfmiddlewaretoken": token})
    return response, person, token


def number_needles(e164: str) -> list[Needle]:
    """Numret i varje skrivsätt (+4670…, 070-…, 070 123 45 67, bara siffror) och som uttryck."""
    return [*phone_forms(e164), phone_pattern(e164)]


def one_way_needles(secrets: list[str]) -> list[Needle]:
    """Det som aldrig får stå i en rapport om envägssändningen: numret, texten och klientens hemligheter."""
    return [*number_needles(PHONE), PASTED_PHONE, *text_forms(SMS_TEXT), "ZX81Q", "knäplastik", *secrets]


def patient_needles(person: Recipient, token: str) -> list[Needle]:
    """Det som aldrig får stå i en rapport om patientsvaret: koden, namnet, numret och CSRF-token."""
    return [person.code, *PATIENT[0].split(), *number_needles(PATIENT[1]), token]


def the_report() -> str:
    """Det enda brevet i utkorgen (ämne, avsändare, mottagare och text), utan HTML-del."""
    assert len(mail.outbox) == 1, [message.subject for message in mail.outbox]
    message = mail.outbox[0]
    assert message.to == ["it@klinik.example.se"]
    assert getattr(message, "alternatives", []) == [], "rapporten ska vara ren text"
    return f"{message.subject}\n{message.from_email}\n{message.body}"


def test_one_way_send_error_mail_has_type_and_place_but_no_number_or_text(staff_user: Any, settings: Any) -> None:
    """Ett oväntat fel i send_sms: personalen får den svenska felsidan, IT ett brev med feltyp,
    sökväg, vy, användarens id och ramar, men aldrig numret, SMS-texten, token eller sessionen;
    serverns logg har felet med typ och ramar, också den utan numret och texten."""
    with portal_log() as log:
        (status, page), secrets = crash_one_way_send(staff_user, settings)
    assert "ProviderCrash: (felets text visas inte" in log.getvalue()
    assert leaks(one_way_needles(secrets), logg=log.getvalue()) == []
    assert status == 500 and "Något gick fel" in page
    report = the_report()
    assert report.startswith("[SMS-portalen] ERROR: ProviderCrash vid POST /\n")
    assert "tests.config.test_error_reports.ProviderCrash (texten visas inte)" in report
    assert "Begäran:    POST /\n" in report and "Vy:         smsportal:send\n" in report
    assert f"Användare:  id {staff_user.pk}\n" in report
    assert re.search(r"smsportal/sending\.py:\d+ i send_sms\n", report)
    assert re.search(r"smsportal/oneway\.py:\d+ i send_template_sms\n", report)
    assert leaks(one_way_needles(secrets), rapport=report) == []
    assert not re.search(r"\banna\b", report, re.IGNORECASE) and "Receptionist" not in report


def test_patient_answer_error_mail_has_no_code_name_or_number(
    campaign: Campaign, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ett oväntat fel i kampanjens svarstjänst: patienten får den svenska felsidan, IT ett brev utan
    svarskod (sökvägen står som /s/[kod]), namn eller nummer; inte heller serverns logg."""
    with portal_log() as log:
        (status, page), person, token = crash_patient_answer(campaign, monkeypatch)
    assert "AlertCrash: (felets text visas inte" in log.getvalue()
    assert leaks(patient_needles(person, token), logg=log.getvalue()) == []
    assert status == 500 and "Något gick fel" in page
    report = the_report()
    assert report.startswith("[SMS-portalen] ERROR: AlertCrash vid POST /s/[kod]\n")
    assert "Begäran:    POST /s/[kod]\n" in report and "Vy:         replies:answer\n" in report
    assert "Användare:  ej inloggad\n" in report
    assert re.search(r"campaigns/services\.py:\d+ i record_answer_by_code\n", report)
    assert leaks(patient_needles(person, token), rapport=report) == []


def test_same_error_is_mailed_once_per_window_then_counted(settings: Any) -> None:
    """En leverantör som är nere fyller inte IT:s brevlåda: samma fel ger ett brev per period, och
    nästa brev säger hur många som hoppades över. Portalens egen loggrad står med, ett annat
    biblioteks inte."""
    other = logging.getLogger("sinch.core")
    for _ in range(3):
        log_portal_error(7)
    other.error("Kunde inte skicka till %s", PHONE)
    assert len(mail.outbox) == 2
    assert "Loggrad:    Kampanjmottagare 7: oväntat fel (Timeout), status osäkert" in mail.outbox[0].body
    assert "Loggrad:    (visas inte: loggraden kommer från ett annat bibliotek)" in mail.outbox[1].body
    assert leaks(number_needles(PHONE), rapport=mail.outbox[1].body) == []
    settings.ERROR_REPORT_REPEAT_MINUTES = 0
    log_portal_error(8)
    assert len(mail.outbox) == 3
    assert "Samma fel har dessutom inträffat 2 gång(er) sedan förra brevet." in mail.outbox[2].body


def library_error(call: Callable[[], object]) -> BaseException:
    """Felet som `call` kastar i ett bibliotek, fångat med sin anropskedja."""
    try:
        call()
    except ValueError as error:
        return error
    raise AssertionError("anropet borde ha kastat")


def parse_answer() -> object:
    """En plats i portalens kod vars fel slutar på en rad i json."""
    return json.loads("{")


def parse_send() -> object:
    """En annan plats i portalens kod, vars fel slutar på samma rad i json."""
    return json.loads("{")


def log_request_error(error: BaseException) -> None:
    """Som django.request loggar ett serverfel: samma logger och samma loggrad varje gång."""
    logging.getLogger("django.request").error(
        "Internal Server Error", exc_info=(type(error), error, error.__traceback__)
    )


def test_errors_ending_in_the_same_library_line_from_different_code_are_two_mails() -> None:
    """Två fel som slutar på samma rad i ett bibliotek men kommer från olika ställen i portalen ger två brev.

    Varje databasfel slutar i Djangos databaslager och loggas av django.request: utan den egna
    ramen blev ett trasigt patientsvar och en trasig envägssändning samma fel, och IT fick bara
    veta om det första. Samma fel från samma ställe ger fortfarande ett brev.
    """
    log_request_error(library_error(parse_answer))
    log_request_error(library_error(parse_answer))
    log_request_error(library_error(parse_send))
    assert len(mail.outbox) == 2, [message.subject for message in mail.outbox]
    assert re.search(r"tests/config/test_error_reports\.py:\d+ i parse_answer\n", mail.outbox[0].body)
    assert re.search(r"tests/config/test_error_reports\.py:\d+ i parse_send\n", mail.outbox[1].body)


def test_crashed_campaign_send_mail_has_the_chain_but_no_number(
    staff_user: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ett kampanjjobb som kraschar ger IT ett brev med feltyp och anropskedja (som README lovar),
    aldrig felets text med patientens nummer; serverns logg likaså."""

    def broken(to: str, text: str) -> None:
        """En bugg vars text ekar numret."""
        raise ProviderCrash(f"trasig för {to}")

    monkeypatch.setattr("smsportal.sending.send_sms", broken)
    campaign = make_campaign(staff_user)
    person = campaign.recipients.get(name=PATIENT[0])
    with portal_log() as log:
        send_to_recipient(person.pk)
    report = the_report()
    assert "Fel: tests.config.test_error_reports.ProviderCrash (texten visas inte)" in report
    assert re.search(r"campaigns/dispatch\.py:\d+ i send_to_recipient\n", report)
    assert "ProviderCrash: (felets text visas inte" in log.getvalue()
    assert leaks(number_needles(PATIENT[1]), rapport=report, logg=log.getvalue()) == []


def log_portal_error(recipient_id: int) -> None:
    """Samma felrad från samma ställe i en av portalens egna loggar (som campaigns/tasks.py skriver den)."""
    logging.getLogger("campaigns.tasks").error(
        "Kampanjmottagare %s: oväntat fel (%s), status osäkert", recipient_id, "Timeout"
    )


def test_no_admins_no_mail(staff_user: Any, settings: Any) -> None:
    """Utan ADMINS skickas inget brev (felsidan visas som vanligt)."""
    settings.ADMINS = []
    (status, _), _ = crash_one_way_send(staff_user, settings)
    assert status == 500 and mail.outbox == []


def test_portal_mail_handler_is_the_only_mail_path() -> None:
    """Djangos AdminEmailHandler (hela tekniska rapporten) sitter ingenstans: varje logger, också
    django.request, når exakt en brevhanterare, portalens."""
    names = [name for name, log in logging.root.manager.loggerDict.items() if isinstance(log, logging.Logger)]
    for name in ["django.request", "django", "django.security.csrf", *names]:
        handlers = reached_handlers(logging.getLogger(name))
        assert not [handler for handler in handlers if isinstance(handler, AdminEmailHandler)], name
        assert len([handler for handler in handlers if isinstance(handler, ErrorMailHandler)]) == 1, name


def test_sentry_events_hold_no_personal_data(
    sentry_transport: CapturingTransport,
    staff_user: Any,
    campaign: Campaign,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Båda felen når Sentry med feltyp och ramar, men ingenting som skickas har nummer, text, kod,
    namn, CSRF-token, sessionskaka, lokala variabler, begärans innehåll eller brödsmulors meddelanden."""
    options = sentry_sdk.get_client().options
    assert options["send_default_pii"] is not True and options["max_request_body_size"] == "never"
    assert options["trace_propagation_targets"] == [] and options["send_client_reports"] is False
    collected = options["data_collection"]
    assert collected["user_info"] is False and collected["http_bodies"] == []
    assert collected["stack_frame_variables"] is False and collected["database_query_data"] is False
    modes = [collected["cookies"], collected["http_headers"]["request"], collected["url_query_params"]]
    assert [mode["mode"] for mode in modes] == ["off", "off", "off"]
    _, secrets = crash_one_way_send(staff_user, settings)
    _, person, token = crash_patient_answer(campaign, monkeypatch)
    events = sentry_transport.events()
    types = [value["type"] for event in events for value in event.get("exception", {}).get("values", [])]
    assert "ProviderCrash" in types and "AlertCrash" in types
    assert leaks([*one_way_needles(secrets), *patient_needles(person, token)], sentry=sentry_transport.raw()) == []
    # Brödsmulorna finns (loggrader och SQL före felet) men bär bara kategori, nivå och tid.
    assert any(event.get("breadcrumbs", {}).get("values") for event in events)
    for event in events:
        assert set(event) <= {*SENTRY_EVENT_KEYS, "exception", "request", "logentry", "breadcrumbs", "contexts"}
        for value in event.get("exception", {}).get("values", []):
            assert "value" not in value
            assert value["stacktrace"]["frames"] and all("vars" not in frame for frame in value["stacktrace"]["frames"])
        assert set(event.get("request", {})) <= {"method", "url"}
        for crumb in event.get("breadcrumbs", {}).get("values", []):
            assert set(crumb) <= {"timestamp", "type", "category", "level"}
    urls = {event["request"]["url"] for event in events if "request" in event}
    assert urls == {"http://testserver/", "http://testserver/s/[kod]"}


def test_sentry_outside_the_eu_region_stops_the_start() -> None:
    """En DSN utanför Sentrys EU-region stoppar starten, om inte undantaget är uttryckligen satt."""
    check_sentry_dsn(EU_DSN, allow_non_eu=False)
    with pytest.raises(ImproperlyConfigured, match="EU-region"):
        check_sentry_dsn("https://public@o1.ingest.us.sentry.io/1", allow_non_eu=False)
    check_sentry_dsn("https://public@sentry.klinik.example.se/1", allow_non_eu=True)


def test_admins_and_email_url_from_the_environment() -> None:
    """ADMINS som adresser med eller utan namn; EMAIL_URL som Djangos SMTP-inställningar."""
    assert parse_admins("it@klinik.se, Jour IT <jour@klinik.se>") == [
        ("it@klinik.se", "it@klinik.se"),
        ("Jour IT", "jour@klinik.se"),
    ]
    assert parse_admins("") == []
    with pytest.raises(ImproperlyConfigured, match="ADMINS"):
        parse_admins("it-avdelningen")
    assert email_settings("smtp+tls://portal:hemligt%21@smtp.example.se:587") == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.example.se",
        "EMAIL_PORT": 587,
        "EMAIL_HOST_USER": "portal",
        "EMAIL_HOST_PASSWORD": "hemligt!",
        "EMAIL_USE_TLS": True,
    }


@pytest.mark.parametrize(
    ("request_kwargs", "logger_name"),
    [
        pytest.param(
            {"path": "/s/abc", "data": {f"falt{i}": "1" for i in range(1200)}, "method": "post"},
            "django.security.TooManyFieldsSent",
            id="for-manga-falt",
        ),
        pytest.param(
            {"path": "/", "HTTP_HOST": "evil.example", "method": "get"},
            "django.security.DisallowedHost",
            id="okand-vard",
        ),
    ],
)
def test_requests_the_client_got_wrong_are_logged_but_not_mailed_or_sent_to_sentry(
    db: Any, sentry_transport: CapturingTransport, caplog: Any, request_kwargs: dict[str, Any], logger_name: str
) -> None:
    """Djangos säkerhetsvägringar (400 till vem som helst på internet) står i loggen men blir inget
    brev till IT och ingen Sentry-händelse; ett fel i portalen blir fortfarande brev."""
    kwargs = dict(request_kwargs)
    method = kwargs.pop("method")
    with caplog.at_level(logging.ERROR):
        response = getattr(Client(), method)(**kwargs)
    assert response.status_code == 400
    assert logger_name in [record.name for record in caplog.records]
    assert mail.outbox == []
    assert sentry_transport.events() == []
    log_portal_error(9)
    assert len(mail.outbox) == 1
