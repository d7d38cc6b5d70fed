"""Samtalen med JA-patienter: "Bokad", "Nådde inte", "Tackade nej i telefon", "Ring först" som flyttar,
tillsatt kampanj med vem som fick tiden, "Öppna igen" före svarstiden, dubbelklick och liveuppdatering."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from campaigns.models import Campaign, Recipient
from campaigns.outcomes import record_call_outcome
from campaigns.services import change_status, record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all, tomorrow_at
from tests.campaigns.test_live import communicator, next_snapshot, row, run, session_cookie

PATIENTS = [
    ("Anna Andersson", "+46701234567", True),
    ("Karl Karlsson", "+46701234568", False),
    ("Lisa Larsson", "+46701234569", True),
    ("Olle Olsson", "+46701234570", False),
]


def yes_campaign(user: Any, order: tuple[str, ...] = ("Lisa Larsson", "Anna Andersson", "Karl Karlsson")) -> Campaign:
    """En skickad kampanj där patienterna i `order` svarat JA i den ordningen; Olle har inte svarat."""
    campaign = make_campaign(user, PATIENTS)
    send_all(campaign)
    for name in order:
        record_answer(recipient(campaign, name), Recipient.Answer.YES)
    return campaign


def post_outcome(client: Client, campaign: Campaign, name: str, outcome: str) -> Any:
    """Trycker en samtalsknapp på patientens rad (följer omdirigeringen till kampanjsidan)."""
    url = reverse("campaigns:outcome", args=[campaign.pk])
    return client.post(url, {"recipient": recipient(campaign, name).pk, "outcome": outcome}, follow=True)


def roles(response: Any) -> list[tuple[str, str]]:
    """(namn, Ring-kolumnen) för JA-raderna på kampanjsidan."""
    return [(r.name, r.role) for r in response.context["rows"] if r.answer == Recipient.Answer.YES]


def detail(client: Client, campaign: Campaign) -> Any:
    """Kampanjsidan."""
    return client.get(reverse("campaigns:detail", args=[campaign.pk]))


def test_ja_rows_get_three_buttons_and_only_ja_rows(staff_client: Client, staff_user: Any) -> None:
    """Varje JA-rad har "Bokad", "Nådde inte" och "Tackade nej i telefon" med svensk fråga; andra rader inga."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
    html = detail(staff_client, campaign).content.decode()
    assert html.count('data-testid="samtalsknappar"') == 1
    lisa = recipient(campaign, "Lisa Larsson").pk
    assert html.count(f'name="recipient" value="{lisa}"') == 3
    for label in ("Bokad", "Nådde inte", "Tackade nej i telefon"):
        assert f">{label}</button>" in html
    assert 'data-confirm="Lisa Larsson: Nådde du inte patienten? Ring först flyttas till nästa JA."' in html


def test_not_reached_and_declined_move_the_marker_to_the_next_ja(staff_client: Client, staff_user: Any) -> None:
    """ "Ring först" går till första JA utan utfall; "Nådde inte" och "Tackade nej" flyttar den i JA-ordning."""
    campaign = yes_campaign(staff_user)
    assert roles(detail(staff_client, campaign)) == [
        ("Lisa Larsson", "Ring först"),
        ("Anna Andersson", "Reserv 1"),
        ("Karl Karlsson", "Reserv 2"),
    ]
    response = post_outcome(staff_client, campaign, "Lisa Larsson", "not_reached")
    assert "Noterat: Lisa Larsson – Nådde inte. Ring nästa JA i listan." in response.content.decode()
    assert roles(response) == [
        ("Lisa Larsson", "Nådde inte"),
        ("Anna Andersson", "Ring först"),
        ("Karl Karlsson", "Reserv 1"),
    ]
    response = post_outcome(staff_client, campaign, "Anna Andersson", "declined")
    assert roles(response) == [
        ("Lisa Larsson", "Nådde inte"),
        ("Anna Andersson", "Tackade nej i telefon"),
        ("Karl Karlsson", "Ring först"),
    ]
    html = response.content.decode()
    assert html.count('data-testid="ring-forst"') == 1
    lisa = recipient(campaign, "Lisa Larsson")
    assert lisa.call_outcome == "not_reached" and lisa.call_outcome_at is not None
    # Lisa ringer tillbaka: hennes rad har fortfarande "Bokad" (men inte "Nådde inte" igen).
    assert html.count(f'name="recipient" value="{lisa.pk}"') == 2
    events = AuditEvent.objects.filter(action=Action.CALL_OUTCOME).order_by("id")
    assert [(e.actor_username, e.status, e.data) for e in events] == [
        ("anna", "Nådde inte", {"kampanj": campaign.pk, "mottagare": lisa.pk}),
        (
            "anna",
            "Tackade nej i telefon",
            {"kampanj": campaign.pk, "mottagare": recipient(campaign, "Anna Andersson").pk},
        ),
    ]
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_booked_fills_the_campaign_shows_who_and_is_audited_without_names(
    staff_client: Client, staff_user: Any
) -> None:
    """ "Bokad": tillsatt, vem som fick tiden syns, ingen "Ring först", audit bara med id:n, länkarna stängda."""
    campaign = make_campaign(staff_user, PATIENTS)
    send_all(campaign)
    Recipient.objects.filter(name="Olle Olsson").update(send_status=Recipient.SendStatus.QUEUED)
    for name in ("Lisa Larsson", "Anna Andersson"):
        record_answer(recipient(campaign, name), Recipient.Answer.YES)
    post_outcome(staff_client, campaign, "Lisa Larsson", "not_reached")

    response = post_outcome(staff_client, campaign, "Anna Andersson", "booked")
    html = response.content.decode()
    campaign.refresh_from_db()
    anna = recipient(campaign, "Anna Andersson")
    assert campaign.status == Campaign.Status.FILLED and campaign.status_changed_at is not None
    assert campaign.booked_recipient == anna and anna.call_outcome == "booked"
    assert "Bokad: Anna Andersson har fått tiden." in html
    assert re.search(
        r'data-testid="bokad">\s*<span data-booked-text>Tiden gick till <strong>Anna Andersson</strong>', html
    )
    assert 'data-testid="ring-forst"' not in html and 'data-testid="samtalsknappar"' not in html
    assert roles(response) == [("Lisa Larsson", "Nådde inte"), ("Anna Andersson", "Bokad")]
    assert recipient(campaign, "Olle Olsson").send_status == Recipient.SendStatus.CANCELLED
    filled = AuditEvent.objects.get(action=Action.CAMPAIGN_FILLED)
    assert (filled.actor_username, filled.data) == ("anna", {"kampanj": campaign.pk, "bokad_mottagare": anna.pk})
    logged = " ".join(str(list(AuditEvent.objects.values_list()))).lower()
    assert "anna andersson" not in logged and "lisa" not in logged
    # En annan patients länk visar nu att tiden är tagen.
    other = Client().get(reverse("replies:answer", args=[recipient(campaign, "Karl Karlsson").code]))
    assert "Tiden är tyvärr redan tillsatt." in other.content.decode()


def test_double_clicks_change_and_log_once(staff_client: Client, staff_user: Any, admin_client_: Client) -> None:
    """Dubbla tryck: ett utfall, en audit-rad; "Bokad" på två patienter samtidigt ger en bokad."""
    campaign = yes_campaign(staff_user)
    post_outcome(staff_client, campaign, "Lisa Larsson", "not_reached")
    again = post_outcome(staff_client, campaign, "Lisa Larsson", "not_reached")
    assert "Redan noterat: Lisa Larsson – Nådde inte." in again.content.decode()
    assert roles(again)[1] == ("Anna Andersson", "Ring först")  # Anna hoppas inte över
    assert AuditEvent.objects.filter(action=Action.CALL_OUTCOME).count() == 1

    post_outcome(staff_client, campaign, "Anna Andersson", "booked")
    second = post_outcome(staff_client, campaign, "Anna Andersson", "booked")
    assert "Redan noterat: Anna Andersson – Bokad." in second.content.decode()
    other = post_outcome(admin_client_, campaign, "Karl Karlsson", "booked")
    assert "Kampanjen är inte längre öppen. Inget har ändrats." in other.content.decode()
    campaign.refresh_from_db()
    assert campaign.booked_recipient == recipient(campaign, "Anna Andersson")
    assert recipient(campaign, "Karl Karlsson").call_outcome == ""
    assert AuditEvent.objects.filter(action=Action.CAMPAIGN_FILLED).count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"recipient": "x", "outcome": "booked"}, "Patienten har inte svarat JA"),
        ({"outcome": "booked"}, "Patienten har inte svarat JA"),
        ({"recipient": "OLLE", "outcome": "booked"}, "Patienten har inte svarat JA"),
        ({"recipient": "LISA", "outcome": "kanske"}, "Okänt samtalsutfall. Ladda om sidan och försök igen."),
    ],
)
def test_bad_outcome_posts_get_a_swedish_message(
    staff_client: Client, staff_user: Any, data: dict[str, str], message: str
) -> None:
    """Påhittade värden, en patient utan JA: svenskt besked, inget ändras, ingen 500."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    ids = {"OLLE": str(recipient(campaign, "Olle Olsson").pk), "LISA": str(recipient(campaign, "Lisa Larsson").pk)}
    data = {key: ids.get(value, value) for key, value in data.items()}
    response = staff_client.post(reverse("campaigns:outcome", args=[campaign.pk]), data, follow=True)
    assert response.status_code == 200 and message in response.content.decode()
    assert not Recipient.objects.exclude(call_outcome="").exists()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_outcome_of_another_campaigns_recipient_is_refused(staff_client: Client, staff_user: Any) -> None:
    """En mottagare i en annan kampanj kan inte bokas via den här kampanjens adress."""
    first = yes_campaign(staff_user, ("Lisa Larsson",))
    other = make_campaign(staff_user, [("Eva Ek", "+46701234599", False)])
    url = reverse("campaigns:outcome", args=[other.pk])
    response = staff_client.post(url, {"recipient": recipient(first, "Lisa Larsson").pk, "outcome": "booked"})
    assert response.status_code == 302
    assert Campaign.objects.filter(status=Campaign.Status.FILLED).count() == 0


def test_outcome_buttons_only_accept_post_and_require_login(client: Client, staff_user: Any) -> None:
    """GET ändrar inget; utan inloggning till inloggningssidan."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    url = reverse("campaigns:outcome", args=[campaign.pk])
    data = {"recipient": recipient(campaign, "Lisa Larsson").pk, "outcome": "booked"}
    assert client.post(url, data)["Location"].startswith(reverse("accounts:login"))
    client.force_login(staff_user)
    assert client.get(url, data).status_code == 405
    assert client.get(reverse("campaigns:reopen", args=[campaign.pk])).status_code == 405
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.ACTIVE


def test_filled_without_booking_shows_no_red_marker(staff_client: Client, staff_user: Any) -> None:
    """ "Tiden är tillsatt" (utanför listan): ingen röd "Ring först", sidan säger att ingen i listan fick tiden."""
    campaign = yes_campaign(staff_user)
    staff_client.post(reverse("campaigns:fill", args=[campaign.pk]))
    response = detail(staff_client, campaign)
    html = response.content.decode()
    assert 'data-testid="ring-forst"' not in html and "Ring först" not in [r for _, r in roles(response)]
    assert roles(response) == [
        ("Lisa Larsson", "Reserv 1"),
        ("Anna Andersson", "Reserv 2"),
        ("Karl Karlsson", "Reserv 3"),
    ]
    assert "Tiden tillsattes utan patient från listan." in html
    snapshot = staff_client.get(reverse("campaigns:snapshot", args=[campaign.pk])).json()
    assert "Ring först" not in [r["role"] for r in snapshot["rows"]]
    assert snapshot["campaign"]["booked_name"] == "" and snapshot["campaign"]["can_reopen"] is True


def test_slot_passed_shows_no_red_marker(staff_client: Client, staff_user: Any) -> None:
    """När tiden har passerat finns ingen att ringa först, och inga samtalsknappar."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    assert 'data-testid="ring-forst"' in detail(staff_client, campaign).content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(slot_at=timezone.now() - timedelta(minutes=1))
    response = detail(staff_client, campaign)
    html = response.content.decode()
    assert response.status_code == 200 and "Tiden har passerat" in html
    assert 'data-testid="ring-forst"' not in html and 'data-testid="samtalsknappar"' not in html


def reopen(client: Client, campaign: Campaign) -> Any:
    """Trycker "Öppna igen" (följer omdirigeringen)."""
    return client.post(reverse("campaigns:reopen", args=[campaign.pk]), follow=True)


def test_reopen_before_the_deadline_moves_the_marker_and_opens_the_links(staff_client: Client, staff_user: Any) -> None:
    """Bokningen föll bort: aktiv igen, ingen bokad, den bokade räknas som nej, länkarna öppna, loggat."""
    campaign = yes_campaign(staff_user)
    Campaign.objects.filter(pk=campaign.pk).update(answer_deadline=campaign.slot_at - timedelta(hours=2))
    post_outcome(staff_client, campaign, "Lisa Larsson", "booked")
    html = detail(staff_client, campaign).content.decode()
    assert re.search(
        r'<form method="post" action="/personal/akut-sms/\d+/oppna-igen/" data-reopen data-confirm="[^"]+">', html
    )

    response = reopen(staff_client, campaign)
    html = response.content.decode()
    campaign.refresh_from_db()
    lisa = recipient(campaign, "Lisa Larsson")
    assert campaign.status == Campaign.Status.ACTIVE and campaign.booked_recipient is None and campaign.is_open
    assert "Kampanjen är öppen igen." in html
    assert lisa.call_outcome == "declined"
    assert roles(response) == [
        ("Lisa Larsson", "Tackade nej i telefon"),
        ("Anna Andersson", "Ring först"),
        ("Karl Karlsson", "Reserv 1"),
    ]
    event = AuditEvent.objects.get(action=Action.CAMPAIGN_REOPENED)
    assert (event.actor_username, event.data) == ("anna", {"kampanj": campaign.pk, "tidigare_bokad_mottagare": lisa.pk})
    page = Client().get(reverse("replies:answer", args=[recipient(campaign, "Olle Olsson").code]))
    assert "Tiden är tyvärr redan tillsatt." not in page.content.decode() and page.status_code == 200
    assert 'name="svar"' in page.content.decode()
    # Ett andra tryck ändrar ingenting; Anna kan nu bokas.
    assert "Kampanjen är redan öppen." in reopen(staff_client, campaign).content.decode()
    post_outcome(staff_client, campaign, "Anna Andersson", "booked")
    assert Campaign.objects.get(pk=campaign.pk).booked_recipient == recipient(campaign, "Anna Andersson")


def test_reopen_after_the_deadline_or_of_a_closed_campaign_is_refused(staff_client: Client, staff_user: Any) -> None:
    """Efter svarstiden (eller för en avslutad kampanj) går det inte att öppna igen; knappen är dold."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    post_outcome(staff_client, campaign, "Lisa Larsson", "booked")
    Campaign.objects.filter(pk=campaign.pk).update(answer_deadline=timezone.now() - timedelta(seconds=1))
    assert re.search(r'data-reopen data-confirm="[^"]+" hidden>', detail(staff_client, campaign).content.decode())
    response = reopen(staff_client, campaign)
    assert "Kampanjen kan inte öppnas igen" in response.content.decode()
    assert Campaign.objects.get(pk=campaign.pk).status == Campaign.Status.FILLED
    assert not AuditEvent.objects.filter(action=Action.CAMPAIGN_REOPENED).exists()

    closed = yes_campaign(staff_user, ())
    staff_client.post(reverse("campaigns:close", args=[closed.pk]))
    assert "Kampanjen kan inte öppnas igen" in reopen(staff_client, closed).content.decode()
    assert Campaign.objects.get(pk=closed.pk).status == Campaign.Status.CLOSED


def test_reopen_of_a_legacy_campaign_uses_the_slot_time(staff_client: Client, staff_user: Any) -> None:
    """Utan svarstid (kampanj från före fältet) gäller tiden själv: före den går det, efter inte."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    assert campaign.answer_deadline is None
    post_outcome(staff_client, campaign, "Lisa Larsson", "booked")
    slot = campaign.slot_at
    Campaign.objects.filter(pk=campaign.pk).update(slot_at=timezone.now() - timedelta(seconds=1))
    assert "Kampanjen kan inte öppnas igen" in reopen(staff_client, campaign).content.decode()
    Campaign.objects.filter(pk=campaign.pk).update(slot_at=slot)
    assert "Kampanjen är öppen igen." in reopen(staff_client, campaign).content.decode()


@pytest.mark.django_db(transaction=True)
def test_outcomes_reach_every_open_dashboard(staff_user: Any) -> None:
    """ "Nådde inte", "Bokad" och "Öppna igen" når två öppna sidor: markören, vem som fick tiden, knappen."""
    from campaigns.outcomes import reopen_campaign

    campaign = yes_campaign(staff_user, ("Lisa Larsson", "Anna Andersson"))
    lisa, anna = recipient(campaign, "Lisa Larsson"), recipient(campaign, "Anna Andersson")
    key = session_cookie(staff_user)
    outcome = sync_to_async(record_call_outcome)

    async def scenario() -> None:
        """Två sidor, tre tryck."""
        sockets = [communicator(campaign.pk, key), communicator(campaign.pk, key)]
        for socket in sockets:
            assert (await socket.connect())[0]
            first = await next_snapshot(socket)
            assert row(first, "Lisa Larsson")["role"] == "Ring först"
        await outcome(campaign, lisa.pk, "not_reached", staff_user)
        for socket in sockets:
            data = await next_snapshot(socket)
            assert row(data, "Lisa Larsson")["call_outcome"] == "not_reached"
            assert row(data, "Anna Andersson")["role"] == "Ring först"
        await outcome(campaign, anna.pk, "booked", staff_user)
        for socket in sockets:
            data = await next_snapshot(socket)
            assert data["campaign"]["status"] == "filled" and data["campaign"]["booked_name"] == "Anna Andersson"
            assert data["campaign"]["can_reopen"] is True
            assert "Ring först" not in [r["role"] for r in data["rows"]]
        await sync_to_async(reopen_campaign)(campaign, staff_user)
        for socket in sockets:
            data = await next_snapshot(socket)
            assert data["campaign"]["status"] == "active" and data["campaign"]["booked_name"] == ""
            assert data["campaign"]["can_reopen"] is False
            await socket.disconnect()

    run(scenario)


def test_fill_fallback_still_fills_without_a_booked_recipient(staff_user: Any) -> None:
    """ "Tiden är tillsatt" finns kvar för en bokning utanför listan: ingen bokad mottagare."""
    campaign = yes_campaign(staff_user, ("Lisa Larsson",))
    assert change_status(campaign, staff_user, Campaign.Status.FILLED)
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FILLED and campaign.booked_recipient is None
    assert AuditEvent.objects.get(action=Action.CAMPAIGN_FILLED).data == {"kampanj": campaign.pk}
    assert timezone.now() < campaign.slot_at == tomorrow_at()
