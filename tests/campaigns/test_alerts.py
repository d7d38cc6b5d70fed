"""SMS-avisering till personalen vid JA: numret i formuläret, när aviseringen köas, texten
(utan patientuppgifter), audit och att numret raderas med kampanjen."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_q.conf import Conf

from audit.models import Action, AuditEvent
from campaigns.alerts import ALERT_RETRY_WINDOW, alert_text, requeue_missed_alerts, send_staff_alert
from campaigns.messages import short_date
from campaigns.models import Campaign, Recipient
from campaigns.services import purge_expired, record_answer
from campaigns.tasks import requeue_stuck_work
from smsportal.backends.base import SmsError
from smsportal.models import Purpose, SendAttempt
from tests.campaigns.factories import make_campaign, recipient
from tests.campaigns.test_views import LIST_URL, form_data
from tests.privacy import database_text, leaks, phone_forms

pytestmark = pytest.mark.django_db

STAFF_PHONE = "+46709876543"


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    """Aviseringsjobb som köas (fångas i stället för att läggas i django-q2:s kö)."""
    jobs: list[tuple[Any, ...]] = []
    monkeypatch.setattr("campaigns.alerts.async_task", lambda *args, **kwargs: jobs.append(args))
    return jobs


def yes_with_alert_queued(user: Any) -> Campaign:
    """En kampanj med aviseringsnummer där Anna just svarat JA och aviseringen köats."""
    campaign = campaign_with_alert(user)
    now = timezone.now()
    Recipient.objects.filter(pk=recipient(campaign, "Anna Andersson").pk).update(
        answer=Recipient.Answer.YES, answered_at=now, yes_rank=1
    )
    Campaign.objects.filter(pk=campaign.pk).update(alert_sent_at=now)
    campaign.refresh_from_db()
    return campaign


def campaign_with_alert(user: Any, phone: str = STAFF_PHONE) -> Campaign:
    """En kampanj med aviseringsnummer."""
    campaign = make_campaign(user)
    Campaign.objects.filter(pk=campaign.pk).update(notify_phone=phone)
    campaign.refresh_from_db()
    return campaign


def test_form_stores_the_number_and_preview_shows_it_masked(staff_client: Client) -> None:
    """Numret skrivs som personalen vill, sparas i E.164 och visas maskerat i förhandsgranskningen."""
    preview = staff_client.post(LIST_URL, form_data(notify_phone="070-987 65 43"))
    html = preview.content.decode()
    assert "Mobil för SMS-avisering (valfri)" in html
    assert "SMS-avisering till personalen vid första JA: 070-987 ****" in html
    data = form_data(notify_phone="070-987 65 43", skicka="1")
    staff_client.post(LIST_URL, data)
    assert Campaign.objects.get().notify_phone == STAFF_PHONE


def test_form_without_number_means_no_alert(staff_client: Client) -> None:
    """Fältet är valfritt."""
    preview = staff_client.post(LIST_URL, form_data())
    assert "Ingen SMS-avisering till personalen." in preview.content.decode()
    staff_client.post(LIST_URL, form_data(skicka="1"))
    assert Campaign.objects.get().notify_phone == ""


@pytest.mark.parametrize("bad", ["08-123 456 78", "+4520123456", "070-12", "inte ett nummer"])
def test_form_refuses_other_than_swedish_mobile(staff_client: Client, bad: str) -> None:
    """Fasta, utländska och trasiga nummer vägras på svenska; inget skapas."""
    response = staff_client.post(LIST_URL, form_data(notify_phone=bad, skicka="1"))
    assert response.status_code == 200
    assert "Ange ett svenskt mobilnummer, t.ex. 070-123 45 67." in response.content.decode()
    assert not Campaign.objects.exists()


def test_first_yes_queues_one_alert_with_the_id_only(
    staff_user: Any, queued: list[tuple[Any, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    """Första JA köar en avisering (bara kampanjens id); NEJ och senare JA köar ingen."""
    campaign = campaign_with_alert(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
        assert queued == []
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
        record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
        # Den första ändrar sig och svarar JA igen: fortfarande bara en avisering.
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.NO)
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    assert queued == [("campaigns.tasks.send_staff_alert", campaign.pk)]


def test_alert_missed_while_the_queue_is_down_is_queued_when_it_is_back(
    staff_user: Any, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Kön nere vid första JA: svaret sparas, och minutschemat köar aviseringen en gång när kön är tillbaka."""

    def queue_down(*args: Any, **kwargs: Any) -> None:
        """Som django-q2 när Redis inte svarar."""
        raise ConnectionError("kön svarar inte")

    campaign = campaign_with_alert(staff_user)
    monkeypatch.setattr("campaigns.alerts.async_task", queue_down)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    assert outcome.accepted and recipient(campaign, "Anna Andersson").answer == Recipient.Answer.YES
    assert requeue_stuck_work() == 0  # kön fortfarande nere: inget köat, försöker igen nästa minut

    jobs: list[tuple[Any, ...]] = []
    monkeypatch.setattr("campaigns.alerts.async_task", lambda *args, **kwargs: jobs.append(args))
    assert requeue_stuck_work() == 1
    assert requeue_stuck_work() == 0  # redan köad: aldrig två aviseringar
    assert jobs == [("campaigns.tasks.send_staff_alert", campaign.pk)]


def test_every_yes_setting_alerts_on_each_yes(
    staff_user: Any, queued: list[tuple[Any, ...]], django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    """Med CAMPAIGN_ALERT_EVERY_YES köas en avisering per nytt JA (samma JA igen ger ingen)."""
    settings.CAMPAIGN_ALERT_EVERY_YES = True
    campaign = campaign_with_alert(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
        record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
    assert len(queued) == 2


def test_no_number_no_alert(
    staff_user: Any, queued: list[tuple[Any, ...]], django_capture_on_commit_callbacks: Any
) -> None:
    """En kampanj utan aviseringsnummer köar inget jobb."""
    campaign = make_campaign(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    assert queued == []


def test_alert_sms_has_no_patient_data_and_is_audited(
    staff_user: Any, sms_outbox: list[Any], monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    """Genom django-q2 (synkront): ett SMS till personalen, utan namn och nummer; audit utan numret."""
    monkeypatch.setattr(Conf, "SYNC", True)
    campaign = campaign_with_alert(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)
    assert [message.to for message in sms_outbox] == [STAFF_PHONE]
    text = sms_outbox[0].text
    local = timezone.localtime(campaign.slot_at)
    assert text == (
        f"Akut-SMS: JA från en patient till tiden {short_date(local.date())} kl 08:00. Se portalen.\n/Södermalms Ortopedi"
    )
    assert "Anna" not in text and "070" not in text and "axel" not in text
    event = AuditEvent.objects.get(action=Action.SMS_SENT)
    assert (event.category, event.template_title, event.status) == ("Akut-SMS", "Avisering till personal", "skickat")
    assert event.actor is None and event.actor_username == "system"
    attempt = SendAttempt.objects.get()
    assert event.data == {"kampanj": campaign.pk, "sms": attempt.pk}
    assert event.provider == "locmem" and event.segments == 1
    assert (attempt.purpose, attempt.campaign_id, attempt.status) == (Purpose.STAFF_ALERT, campaign.pk, "sent")


def test_alert_failure_is_audited(staff_user: Any, settings: Any, sms_outbox: list[Any]) -> None:
    """En leverantör som vägrar: inget SMS, audit "misslyckat" utan numret."""
    settings.SMS_PROVIDERS = ["tests.fakes.backends.RejectingBackend"]
    campaign = campaign_with_alert(staff_user)
    assert send_staff_alert(campaign.pk) is False
    event = AuditEvent.objects.get(action=Action.SMS_FAILED)
    assert event.category == "Akut-SMS" and event.status == "misslyckat"
    assert "9876543" not in event.reason


@pytest.mark.parametrize(
    ("backend", "retried"),
    [("DownBackend", True), ("RejectingBackend", False), ("AmbiguousBackend", False)],
    ids=["leverantor-nere", "permanent-fel", "osakert"],
)
def test_failed_alert_is_retried_only_when_the_failure_was_temporary(
    staff_user: Any, settings: Any, sms_outbox: list[Any], queued: list[tuple[Any, ...]], backend: str, retried: bool
) -> None:
    """Alla leverantörer tillfälligt nere: minutschemat köar aviseringen igen och den går fram när de är tillbaka.

    Ett permanent fel provas aldrig igen, och ett osäkert (SMS:et kan ha gått) skickas aldrig två gånger.
    """
    campaign = yes_with_alert_queued(staff_user)
    settings.SMS_PROVIDERS = [f"tests.fakes.backends.{backend}"]
    assert send_staff_alert(campaign.pk) is False
    assert requeue_stuck_work() == (1 if retried else 0)
    assert requeue_stuck_work() == 0  # aldrig två köade
    assert queued == ([("campaigns.tasks.send_staff_alert", campaign.pk)] if retried else [])
    if retried:
        settings.SMS_PROVIDERS = ["locmem"]
        assert send_staff_alert(campaign.pk) is True
        assert [message.to for message in sms_outbox] == [STAFF_PHONE]


def test_failed_alert_is_not_retried_long_after_the_last_yes(
    staff_user: Any, settings: Any, queued: list[tuple[Any, ...]]
) -> None:
    """En halvtimme efter senaste JA är en avisering inaktuell: minutschemat ger upp (personalen ser JA:t i portalen)."""
    campaign = yes_with_alert_queued(staff_user)
    settings.SMS_PROVIDERS = ["tests.fakes.backends.DownBackend"]
    assert send_staff_alert(campaign.pk) is False
    with time_machine.travel(timezone.now() + ALERT_RETRY_WINDOW + timedelta(minutes=1)):
        assert requeue_missed_alerts() == 0
    assert requeue_missed_alerts() == 1  # kontroll: inom halvtimmen hade den köats
    assert queued == [("campaigns.tasks.send_staff_alert", campaign.pk)]


def test_failed_alert_keeps_a_newer_alert_mark(staff_user: Any, settings: Any, queued: list[tuple[Any, ...]]) -> None:
    """Varje JA: ett senare JA har redan köat en ny avisering när den förra misslyckas – den markeringen står kvar."""
    settings.CAMPAIGN_ALERT_EVERY_YES = True
    settings.SMS_PROVIDERS = ["tests.fakes.backends.DownBackend"]
    campaign = yes_with_alert_queued(staff_user)
    newer = timezone.now() + timedelta(seconds=5)

    def newer_yes_queues_meanwhile(*args: Any, **kwargs: Any) -> Any:
        """Medan aviseringen skickas köar ett nytt JA sin egen avisering."""
        Campaign.objects.filter(pk=campaign.pk).update(alert_sent_at=newer)
        raise SmsError(permanent=False, provider="nere", reason="anslutningen nekades")

    with mock.patch("smsportal.sending.send_sms", newer_yes_queues_meanwhile):
        assert send_staff_alert(campaign.pk) is False
    assert Campaign.objects.get(pk=campaign.pk).alert_sent_at == newer
    assert requeue_stuck_work() == 0 and queued == []


def test_no_alert_for_closed_or_deleted_campaigns(staff_user: Any, sms_outbox: list[Any]) -> None:
    """Jobbet som kommer för sent (kampanjen tillsatt eller raderad) skickar ingenting."""
    campaign = campaign_with_alert(staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(status=Campaign.Status.FILLED)
    assert send_staff_alert(campaign.pk) is False
    assert send_staff_alert(999_999) is False
    assert sms_outbox == []


def test_alert_text_is_one_gsm_segment(staff_user: Any) -> None:
    """Texten ryms i ett SMS."""
    from common.smstext import analyse

    info = analyse(alert_text(make_campaign(staff_user)))
    assert info.segments == 1


def test_number_is_deleted_with_the_campaign(staff_user: Any) -> None:
    """Numret ligger på kampanjen och försvinner med den vid radering."""
    campaign = campaign_with_alert(staff_user)
    assert leaks(phone_forms(STAFF_PHONE)[:1], db=database_text())
    Campaign.objects.filter(pk=campaign.pk).update(created_at=timezone.now() - timedelta(days=30))
    assert purge_expired() == 1
    assert leaks(phone_forms(STAFF_PHONE), db=database_text()) == []


def test_unexpected_error_in_the_alert_task_never_reaches_the_task_table(
    staff_user: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Ett oväntat fel (t.ex. en bugg i en backend) fångas: django-q2 får aldrig felets text med numret."""

    def broken(phone: str, text: str) -> None:
        """En backend med en bugg som skriver numret i felmeddelandet."""
        raise ValueError(f"trasig backend för {phone}")

    campaign = campaign_with_alert(staff_user)
    monkeypatch.setattr("smsportal.sending.send_sms", broken)
    assert send_staff_alert(campaign.pk) is False
    assert "ValueError" in caplog.text
    assert leaks(phone_forms(STAFF_PHONE), loggar=caplog.text) == []
