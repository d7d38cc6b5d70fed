"""Sändning i grupper: i tid, paus vid JA, stopp vid tillsatt/avslutad/svarstid, tyst tid,
"Skicka nästa grupp nu", aldrig en grupp två gånger eller överhoppad, och "Lägg till mottagare"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_q.conf import Conf
from pytest_django.fixtures import Settings

from audit.models import Action, AuditEvent
from campaigns.forms import CampaignForm
from campaigns.models import Campaign, Recipient
from campaigns.services import change_status, record_answer
from campaigns.tasks import send_to_recipient
from campaigns.waves import quiet_until, release_due_waves, release_wave
from tests.campaigns.factories import make_campaign, recipient, run_minute_schedule, send_all
from tests.campaigns.test_views import form_data

# Tisdag 1 december 2026 kl 10:00 i Stockholm; den lediga tiden är fredag kl 08:00.
NOW = timezone.make_aware(datetime(2026, 12, 1, 10, 0))
SLOT = timezone.make_aware(datetime(2026, 12, 4, 8, 0))
PATIENTS = [(f"Patient {i}", f"+4670123450{i}", i % 2 == 0) for i in range(1, 8)]


def phone(i: int) -> str:
    """Patient i:s nummer (1–7)."""
    return f"+4670123450{i}"


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[Any]:
    """Klockan står på tisdag 1/12 2026 kl 10 (Stockholm); testerna flyttar den själva."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def in_waves(user: Any, *, pause_on_yes: bool = False, **options: Any) -> Campaign:
    """Sju patienter i grupper om två, tio minuter mellan grupperna; första gruppen skickad."""
    options.setdefault("answer_deadline", SLOT - timedelta(hours=2))
    campaign = make_campaign(
        user, PATIENTS, slot_at=SLOT, wave_size=2, wave_minutes=10, pause_on_yes=pause_on_yes, **options
    )
    send_all(campaign)
    return campaign


def page(client: Client, user: Any, campaign: Campaign) -> str:
    """Kampanjsidan som personalen ser den (nyss inloggad: klockan har flyttats längre än sessionen)."""
    client.force_login(user)
    return client.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()


def schedule_at(clock: Any, moment: datetime, capture: Any) -> None:
    """Flyttar klockan och kör minutschemat som django-q2 gör: jobben som schemat och dess
    commit köar körs direkt (som av en arbetsprocess)."""
    clock.move_to(moment)
    synchronous = Conf.SYNC
    Conf.SYNC = True
    try:
        with capture(execute=True):
            run_minute_schedule()
    finally:
        Conf.SYNC = synchronous


def sent_to(outbox: list[Any]) -> list[str]:
    """Numren som fått SMS, i ordning."""
    return [message.to for message in outbox]


def states(campaign: Campaign) -> list[tuple[str, int | None, bool]]:
    """(sändstatus, grupp, har krypterat nummer) per mottagare i klistrad ordning."""
    return [(r.send_status, r.wave, bool(r.phone_encrypted)) for r in campaign.recipients.order_by("pk")]


def test_waves_go_out_in_pasted_order_on_time(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Första gruppen direkt, nästa efter tio minuter (inte före), i klistrad ordning; väntande
    mottagares nummer är krypterade tills deras grupp går, sedan raderade."""
    campaign = in_waves(staff_user)
    assert sent_to(sms_outbox) == [phone(1), phone(2)]
    assert states(campaign)[:3] == [("sent", 1, False), ("sent", 1, False), ("waiting", None, True)]
    html = page(staff_client, staff_user, campaign)
    assert "Grupp 1: kl 10:00, 2 mottagare" in html and "kl 10:10" in html and "väntar på sin grupp" in html

    schedule_at(frozen_clock, NOW + timedelta(minutes=9, seconds=59), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 2
    schedule_at(frozen_clock, NOW + timedelta(minutes=10), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox) == [phone(1), phone(2), phone(3), phone(4)]
    schedule_at(frozen_clock, NOW + timedelta(minutes=15), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 4
    for minute in (20, 30, 40):
        schedule_at(frozen_clock, NOW + timedelta(minutes=minute), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox) == [phone(i) for i in range(1, 8)]
    campaign.refresh_from_db()
    assert campaign.waves_sent == 4
    assert [wave for _, wave, _ in states(campaign)] == [1, 1, 2, 2, 3, 3, 4]
    assert not campaign.recipients.exclude(phone_encrypted="").exists()
    html = page(staff_client, staff_user, campaign)
    assert "Grupp 4: kl 10:30, 1 mottagare" in html and "alla grupper är skickade" in html
    events = AuditEvent.objects.filter(action=Action.CAMPAIGN_WAVE_SENT).order_by("pk")
    assert [(e.actor_username, e.data["grupp"]) for e in events] == [("anna", 1)] + [("system", n) for n in (2, 3, 4)]


def test_a_yes_waiting_to_be_called_pauses_the_waves_until_its_call_is_noted(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Med paus: ett JA utan noterat samtal stoppar nästa grupp; när samtalet noterats går den."""
    campaign = in_waves(staff_user, pause_on_yes=True)
    first = recipient(campaign, "Patient 1")
    record_answer(first, Recipient.Answer.YES)
    schedule_at(frozen_clock, NOW + timedelta(minutes=10), django_capture_on_commit_callbacks)
    schedule_at(frozen_clock, NOW + timedelta(minutes=25), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 2
    assert "pausad: väntar på att JA ringas" in page(staff_client, staff_user, campaign)

    Recipient.objects.filter(pk=first.pk).update(call_outcome=Recipient.CallOutcome.NOT_REACHED)
    assert 'Nästa grupp: <strong data-testid="nasta-grupp">inom en minut</strong>' in page(
        staff_client, staff_user, campaign
    )
    schedule_at(frozen_clock, NOW + timedelta(minutes=26), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox)[2:] == [phone(3), phone(4)]


def test_without_pause_a_yes_does_not_stop_the_waves(
    staff_user: Any, sms_outbox: list[Any], frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Utan "Pausa när någon svarat JA" går grupperna ändå."""
    campaign = in_waves(staff_user, pause_on_yes=False)
    record_answer(recipient(campaign, "Patient 1"), Recipient.Answer.YES)
    schedule_at(frozen_clock, NOW + timedelta(minutes=10), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 4


@pytest.mark.parametrize("how", ["fill", "close", "deadline"])
def test_fill_close_or_deadline_stops_further_waves(
    staff_user: Any, sms_outbox: list[Any], frozen_clock: Any, django_capture_on_commit_callbacks: Any, how: str
) -> None:
    """Tillsatt, avslutad eller svarstiden passerad: inga fler grupper; väntande avbryts och
    deras nummer raderas."""
    campaign = in_waves(staff_user, answer_deadline=NOW + timedelta(minutes=8))
    if how == "fill":
        change_status(campaign, staff_user, Campaign.Status.FILLED)
    elif how == "close":
        change_status(campaign, staff_user, Campaign.Status.CLOSED)
    else:
        schedule_at(frozen_clock, NOW + timedelta(minutes=8), django_capture_on_commit_callbacks)
    for minute in (10, 20, 30):
        schedule_at(frozen_clock, NOW + timedelta(minutes=minute), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 2
    campaign.refresh_from_db()
    assert campaign.waves_sent == 1 and not campaign.is_open
    assert states(campaign)[2:] == [("cancelled", None, False)] * 5


def test_quiet_hours_hold_a_wave_until_morning(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    settings: Settings,
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """En grupp som blir aktuell 20:05 väntar till 07:00 (sidan säger det) och går då."""
    settings.CAMPAIGN_QUIET_HOURS = "20-07"  # standardvärdet; testmiljön har ingen tyst tid
    frozen_clock.move_to(timezone.make_aware(datetime(2026, 12, 1, 19, 55)))
    campaign = in_waves(staff_user, answer_deadline=None)
    schedule_at(frozen_clock, timezone.make_aware(datetime(2026, 12, 1, 20, 5)), django_capture_on_commit_callbacks)
    schedule_at(frozen_clock, timezone.make_aware(datetime(2026, 12, 2, 6, 59)), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 2
    assert "tyst tid till 07:00" in page(staff_client, staff_user, campaign)
    schedule_at(frozen_clock, timezone.make_aware(datetime(2026, 12, 2, 7, 0)), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox)[2:] == [phone(3), phone(4)]


def test_empty_quiet_hours_turn_them_off(
    staff_user: Any,
    settings: Settings,
    sms_outbox: list[Any],
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """CAMPAIGN_QUIET_HOURS tomt: grupperna går även på natten."""
    settings.CAMPAIGN_QUIET_HOURS = ""
    frozen_clock.move_to(timezone.make_aware(datetime(2026, 12, 1, 22, 0)))
    in_waves(staff_user, answer_deadline=None)
    schedule_at(frozen_clock, timezone.make_aware(datetime(2026, 12, 1, 22, 10)), django_capture_on_commit_callbacks)
    assert len(sms_outbox) == 4


def test_send_next_now_works_in_quiet_hours_once_per_click(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    settings: Settings,
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """ "Skicka nästa grupp nu" under tyst tid: nästa grupp går direkt och loggas med vem; samma
    formulär en gång till (dubbelklick) släpper ingen grupp till; en GET gör ingenting."""
    settings.CAMPAIGN_QUIET_HOURS = "20-07"  # standardvärdet; testmiljön har ingen tyst tid
    frozen_clock.move_to(timezone.make_aware(datetime(2026, 12, 1, 21, 0)))
    campaign = in_waves(staff_user, answer_deadline=None)
    url = reverse("campaigns:send_next", args=[campaign.pk])
    staff_client.force_login(staff_user)
    assert staff_client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, {"grupp": "1"}, follow=True)
    assert "Grupp 2 skickas nu till 2 mottagare." in response.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        again = staff_client.post(url, {"grupp": "1"}, follow=True)
    assert "Ingen ny grupp skickades" in again.content.decode()
    send_all(campaign)
    assert sent_to(sms_outbox) == [phone(1), phone(2), phone(3), phone(4)]
    campaign.refresh_from_db()
    assert campaign.waves_sent == 2
    event = AuditEvent.objects.filter(action=Action.CAMPAIGN_WAVE_SENT).latest("pk")
    assert (event.actor_username, event.data) == ("anna", {"kampanj": campaign.pk, "grupp": 2, "mottagare": 2})
    assert staff_client.post(url, {"grupp": "påhittat"}).status_code == 302
    campaign.refresh_from_db()
    assert campaign.waves_sent == 2


def test_a_wave_is_never_released_twice_or_skipped(staff_user: Any, frozen_clock: Any) -> None:
    """Två släpp med samma utgångsläge (två schemakörningar, två klick) ger en grupp; schemat
    två gånger i rad likaså; nästa gång kommer nästa grupp, inte en överhoppad."""
    campaign = in_waves(staff_user)
    frozen_clock.move_to(NOW + timedelta(minutes=10))
    assert release_wave(campaign.pk, expected=1) == 2
    assert release_wave(campaign.pk, expected=1) == 0
    assert release_due_waves() == 0
    frozen_clock.move_to(NOW + timedelta(minutes=20))
    assert release_due_waves() == 2
    assert release_due_waves() == 0
    assert [wave for _, wave, _ in states(campaign)] == [1, 1, 2, 2, 3, 3, None]


def test_a_worker_killed_between_waves_loses_nothing(
    staff_user: Any, sms_outbox: list[Any], frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Gruppen släpptes men arbetsprocessen dog innan jobben kördes (kön tappade dem): schemat står
    i databasen, nästa minutkörning skickar gruppen en gång, och nästa grupp kommer i tid."""
    campaign = in_waves(staff_user)
    frozen_clock.move_to(NOW + timedelta(minutes=10))
    with django_capture_on_commit_callbacks(execute=False):  # jobben köas aldrig: processen dog
        release_due_waves()
    assert len(sms_outbox) == 2
    schedule_at(frozen_clock, NOW + timedelta(minutes=11), django_capture_on_commit_callbacks)
    schedule_at(frozen_clock, NOW + timedelta(minutes=12), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox) == [phone(1), phone(2), phone(3), phone(4)]
    schedule_at(frozen_clock, NOW + timedelta(minutes=20), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox)[4:] == [phone(5), phone(6)]
    assert [wave for _, wave, _ in states(campaign)] == [1, 1, 2, 2, 3, 3, None]


ADD_URL = "campaigns:add_recipients"


def test_add_recipients_with_waves_wait_at_the_end(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    frozen_clock: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """I grupper: tillagda väntar sist i ordningen (numret krypterat); dubbletter namnges och hoppas över."""
    campaign = in_waves(staff_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse(ADD_URL, args=[campaign.pk]),
            {"recipients": "Ny Patient, 070-123 45 99, ja\nPatient 3, 070-123 45 03"},
        )
    html = response.content.decode()
    assert response.status_code == 200
    assert "1 mottagare tillagda. De väntar på sin grupp." in html
    assert "Rad 2: Patient 3 (070-123 ****) finns redan i kampanjen och hoppas över." in html
    added = recipient(campaign, "Ny Patient")
    assert added.send_status == Recipient.SendStatus.WAITING and added.phone_encrypted and added.consent
    assert campaign.recipients.order_by("pk").last() == added
    assert len(sms_outbox) == 2
    assert AuditEvent.objects.get(action=Action.CAMPAIGN_RECIPIENTS_ADDED).data["mottagare"] == 1


def test_add_recipients_without_waves_are_sent_at_once(
    staff_user: Any,
    staff_client: Client,
    sms_outbox: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """Alla på en gång: de tillagda får SMS:et direkt."""
    campaign = make_campaign(staff_user, PATIENTS[:2], slot_at=SLOT)
    send_all(campaign)
    monkeypatch.setattr(Conf, "SYNC", True)
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse(ADD_URL, args=[campaign.pk]), {"recipients": "Ny Patient, 0701234599"})
    assert response.status_code == 302
    assert sent_to(sms_outbox) == [phone(1), phone(2), "+46701234599"]
    assert recipient(campaign, "Ny Patient").phone_encrypted == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ("Ny Patient, 070-12", "Rad 1: ogiltigt mobilnummer"),
        ("", "Klistra in minst en mottagare."),
        ("A, 0701234591\nB, 0701234591", "Rad 2 (B): samma nummer som rad 1 (A)."),
    ],
)
def test_add_recipients_refuses_bad_lists_in_swedish(
    staff_user: Any, staff_client: Client, text: str, message: str
) -> None:
    """Samma fel som vid skapandet; inget läggs till och texten står kvar."""
    campaign = in_waves(staff_user)
    response = staff_client.post(reverse(ADD_URL, args=[campaign.pk]), {"recipients": text})
    assert response.status_code == 200 and message in response.content.decode()
    assert text.split("\n")[0] in response.content.decode()
    assert campaign.recipients.count() == 7


def test_add_recipients_keeps_the_campaign_maximum(staff_user: Any, staff_client: Client, settings: Settings) -> None:
    """Högst CAMPAIGN_MAX_RECIPIENTS över hela kampanjen; dubbletter räknas inte."""
    settings.CAMPAIGN_MAX_RECIPIENTS = 8
    campaign = in_waves(staff_user)
    response = staff_client.post(
        reverse(ADD_URL, args=[campaign.pk]), {"recipients": "A, 0701234591\nB, 0701234592\nPatient 1, 0701234501"}
    )
    assert "Kampanjen har redan 7 mottagare; högst 8 per kampanj, så högst 1 till kan läggas till." in (
        response.content.decode()
    )
    assert campaign.recipients.count() == 7


def test_add_recipients_to_a_closed_campaign_is_refused(staff_user: Any, staff_client: Client) -> None:
    """En stängd kampanj tar inga nya mottagare."""
    campaign = in_waves(staff_user)
    change_status(campaign, staff_user, Campaign.Status.CLOSED)
    response = staff_client.post(reverse(ADD_URL, args=[campaign.pk]), {"recipients": "A, 0701234591"}, follow=True)
    assert "Kampanjen är stängd: inga mottagare kan läggas till." in response.content.decode()
    assert campaign.recipients.count() == 7


def test_waves_in_the_live_snapshot(staff_user: Any, staff_client: Client) -> None:
    """Statusadressen (och websocketen, samma format) bär grupperna och nästa grupp."""
    campaign = in_waves(staff_user)
    data = staff_client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    assert data["waves"] == {
        "sent": [{"number": 1, "time": "10:00", "count": 2}],
        "next": "kl 10:10",
        "waiting": 5,
        "waves_sent": 1,
        "can_send_next": True,
    }
    # "Väntar på svar" räknar bara de två som fått SMS:et, inte de fem som väntar på sin grupp.
    assert data["counts"]["waiting"] == 2


def test_send_to_a_waiting_recipient_does_nothing(staff_user: Any, sms_outbox: list[Any]) -> None:
    """Ett jobb för en väntande mottagare (t.ex. ett gammalt dubblettjobb) skickar ingenting."""
    campaign = in_waves(staff_user)
    send_to_recipient(recipient(campaign, "Patient 7").pk)
    assert len(sms_outbox) == 2


def test_the_form_creates_a_campaign_in_waves(
    staff_user: Any, staff_client: Client, sms_outbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    """ "Skicka i grupper" i formuläret: förhandsgranskningen beskriver grupperna, och kampanjen
    skapas med dem; fel i gruppfälten namnges på svenska, men gäller inte "alla på en gång"."""
    staff_client.force_login(staff_user)
    assert CampaignForm()["pause_on_yes"].value() is True
    waves = {"send_mode": "grupper", "wave_size": "2", "wave_minutes": "15", "pause_on_yes": "on"}
    preview = staff_client.post(reverse("campaigns:list"), form_data(**waves)).content.decode()
    assert "Sändning i 2 grupper om högst 2, med 15 minuter mellan grupperna; pausar när någon svarat JA" in preview
    bad = staff_client.post(reverse("campaigns:list"), form_data(send_mode="grupper", wave_size="0", wave_minutes=""))
    assert bad.context["form"].errors == {
        "wave_size": ["Antal per grupp måste vara minst 1."],
        "wave_minutes": ["Ange minuter mellan grupper."],
    }
    ignored = staff_client.post(reverse("campaigns:list"), form_data(send_mode="alla", wave_size="x"))
    assert ignored.context["form"].is_valid()
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("campaigns:list"), form_data(skicka="1", **waves))
    campaign = Campaign.objects.get()
    assert (campaign.wave_size, campaign.wave_minutes, campaign.pause_on_yes, campaign.waves_sent) == (2, 15, True, 1)
    assert [r.send_status for r in campaign.recipients.order_by("pk")] == ["queued", "queued", "waiting"]


def test_one_minute_between_waves_reads_one_minute(staff_user: Any, staff_client: Client) -> None:
    """En minut mellan grupperna står som "1 minut" (inte "1 minuter") i förhandsgranskningen och på kampanjsidan."""
    staff_client.force_login(staff_user)
    waves = {"send_mode": "grupper", "wave_size": "2", "wave_minutes": "1", "pause_on_yes": "on"}
    preview = staff_client.post(reverse("campaigns:list"), form_data(**waves)).content.decode()
    assert "Sändning i 2 grupper om högst 2, med 1 minut mellan grupperna; pausar" in preview
    campaign = make_campaign(staff_user, PATIENTS, slot_at=SLOT, wave_size=2, wave_minutes=1)
    assert "Sändning i grupper om 2, 1 minut mellan grupperna, paus vid JA" in page(staff_client, staff_user, campaign)


@pytest.mark.parametrize(
    "setting, moment, until",
    [
        ("20-07", datetime(2026, 12, 1, 19, 59), None),
        ("20-07", datetime(2026, 12, 1, 20, 0), datetime(2026, 12, 2, 7, 0)),
        ("20-07", datetime(2026, 12, 2, 6, 59), datetime(2026, 12, 2, 7, 0)),
        ("20-07", datetime(2026, 12, 2, 7, 0), None),
        ("12-13", datetime(2026, 12, 2, 12, 30), datetime(2026, 12, 2, 13, 0)),
        ("12-13", datetime(2026, 12, 2, 13, 0), None),
        ("", datetime(2026, 12, 1, 23, 0), None),
    ],
)
def test_quiet_hours_in_the_clinic_time_zone(
    settings: Settings, setting: str, moment: datetime, until: datetime | None
) -> None:
    """Tyst tid i klinikens tid, även över midnatt; tomt = ingen."""
    settings.CAMPAIGN_QUIET_HOURS = setting
    expected = timezone.make_aware(until) if until else None
    assert quiet_until(timezone.make_aware(moment)) == expected


@pytest.mark.parametrize("value", ["", "-1", "99999999999999999999", "1\x00", "1.5", "١"])
def test_send_next_with_a_strange_form_value_never_fails(staff_user: Any, staff_client: Client, value: str) -> None:
    """Ett påhittat gruppvärde i formuläret ger aldrig ett serverfel och släpper ingen grupp."""
    campaign = in_waves(staff_user)
    response = staff_client.post(reverse("campaigns:send_next", args=[campaign.pk]), {"grupp": value}, follow=True)
    assert response.status_code == 200 and "Ingen ny grupp skickades" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.waves_sent == 1


def test_a_patient_who_opts_out_elsewhere_is_left_out_of_a_later_wave(
    staff_user: Any, sms_outbox: list[Any], frozen_clock: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Patient 3 väntar på grupp 2 här och ber i en annan kampanj att inte få fler förfrågningar:
    grupp 2 går till patient 4 och 5, och patient 3:s krypterade nummer raderas."""
    from campaigns.optout import opt_out

    campaign = in_waves(staff_user)
    other = make_campaign(staff_user, [("Patient 3", phone(3), True)], slot_at=SLOT)
    send_all(other)
    opt_out(other.recipients.get())
    sms_outbox.clear()
    schedule_at(frozen_clock, NOW + timedelta(minutes=10), django_capture_on_commit_callbacks)
    assert sent_to(sms_outbox) == [phone(4), phone(5)]
    assert states(campaign)[2:5] == [("cancelled", None, False), ("sent", 2, False), ("sent", 2, False)]
