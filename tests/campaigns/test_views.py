"""Personalens sidor: skapa med förhandsgranskning, dubbelklick, kampanjsidan, tillsätt och avsluta."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from audit.models import Action, AuditEvent
from campaigns.models import Campaign, Recipient
from campaigns.services import record_answer
from tests.campaigns.factories import make_campaign, recipient, send_all, tomorrow_at

LIST_URL = reverse("campaigns:list")
RECIPIENTS = "Anna Andersson, 070-123 45 67, ja\nKarl Karlsson\t0701234568\tnej\nLisa Larsson; 070 123 45 69"


def form_data(**changes: str) -> dict[str, str]:
    """Ett ifyllt formulär för en tid i morgon kl 08:00."""
    data = {
        "slot_date": tomorrow_at().date().isoformat(),
        "slot_time": "08:00",
        "operation_type": "axeloperation",
        "recipients": RECIPIENTS,
        "request_id": str(uuid.uuid4()),
    }
    return {**data, **changes}


@pytest.mark.parametrize(
    "method, url",
    [
        ("get", LIST_URL),
        ("post", LIST_URL),
        ("get", "/personal/akut-sms/1/"),
        ("post", "/personal/akut-sms/1/tillsatt/"),
        ("post", "/personal/akut-sms/1/avsluta/"),
    ],
)
def test_staff_pages_require_login(client: Client, db: Any, method: str, url: str) -> None:
    """Utan inloggning: till inloggningssidan, och ingen kampanj skapas."""
    response = getattr(client, method)(url, form_data() if url == LIST_URL else {})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
    assert not Campaign.objects.exists()


ACTION_NAMES = ["fill", "close", "outcome", "reopen", "reveal", "thanks", "send_next", "add_recipients"]


@pytest.mark.parametrize("name", ACTION_NAMES)
def test_an_action_after_the_session_ended_leads_back_to_the_campaign_page(
    client: Client, staff_user: Any, name: str
) -> None:
    """En knapp på kampanjsidan efter att sessionen gått ut: inloggningen leder sedan till kampanjsidan,
    inte till knappens adress (den tar bara POST och gav efter inloggningen en tom sida 405)."""
    campaign = make_campaign(staff_user)
    response = client.post(reverse(f"campaigns:{name}", args=[campaign.pk]), {"recipients": "Ny Person, 0701234599"})
    login, _, next_url = response["Location"].partition("?next=")
    assert response.status_code == 302 and login == reverse("accounts:login")
    assert unquote(next_url) == reverse("campaigns:detail", args=[campaign.pk])
    assert campaign.recipients.count() == 3 and Campaign.objects.get().status == Campaign.Status.ACTIVE


def test_an_action_address_opened_directly_shows_a_swedish_page(staff_client: Client, staff_user: Any) -> None:
    """Knappens adress öppnad med GET (en sparad länk, eller inloggningen förr): svensk sida 405, inget ändrat."""
    campaign = make_campaign(staff_user)
    response = staff_client.get(reverse("campaigns:close", args=[campaign.pk]))
    assert response.status_code == 405 and response["Allow"] == "POST"
    assert "Sidan kan inte öppnas så här" in response.content.decode()
    assert Campaign.objects.get().status == Campaign.Status.ACTIVE


def test_preview_shows_both_variants_segments_cost_and_recipients(staff_client: Client) -> None:
    """Första POST: inget skapas; båda varianterna, delar, kostnad och mottagarna med samtycke visas."""
    response = staff_client.post(LIST_URL, form_data())
    assert response.status_code == 200
    assert not Campaign.objects.exists()
    preview = response.context["preview"]
    assert preview["with_consent"].startswith(
        "Hej Anna! En operationstid för din axeloperation har blivit ledig imorgon"
    )
    assert preview["without_consent"].startswith("Hej! En tid har blivit ledig imorgon.")
    assert preview["with_consent_info"].segments == 2 and preview["without_consent_info"].segments == 1
    assert preview["segments"] == 2 + 1 + 1  # bara Anna har samtycke (två delar)
    assert preview["cost"] == "1,40"
    html = response.content.decode()
    assert "3 mottagare, varav 1 med samtycke. Totalt 4 SMS-delar, uppskattad kostnad 1,40 kr." in html
    assert "GSM-7 · " in html and "1 SMS-del<" in html and "2 SMS-delar<" in html
    rows = re.findall(r"<tr><td>(\d)</td><td>([^<]+)</td><td[^>]*>([^<]+)</td><td>(ja|nej)</td></tr>", html)
    assert rows == [
        ("1", "Anna Andersson", "070-123 45 67", "ja"),
        ("2", "Karl Karlsson", "070-123 45 68", "nej"),
        ("3", "Lisa Larsson", "070-123 45 69", "nej"),
    ]
    assert 'name="skicka" value="1"' in html
    assert "Skicka till 3 mottagare" in html


def test_skicka_creates_the_campaign_once_even_when_posted_twice(staff_client: Client, staff_user: Any) -> None:
    """Skicka med samma formulär-id två gånger (dubbelklick): en kampanj, ett audit-inlägg."""
    data = form_data(skicka="1")
    first = staff_client.post(LIST_URL, data)
    second = staff_client.post(LIST_URL, data, follow=True)
    campaign = Campaign.objects.get()
    assert first["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    assert second.redirect_chain[-1][0] == reverse("campaigns:detail", args=[campaign.pk])
    assert "Kampanjen var redan skapad. Inga nya SMS skickades." in second.content.decode()
    assert campaign.created_by == staff_user and campaign.operation_type == "axeloperation"
    assert timezone.localtime(campaign.slot_at).strftime("%H:%M") == "08:00"
    assert [(r.name, r.consent, r.phone_masked) for r in campaign.recipients.all()] == [
        ("Anna Andersson", True, "070-123 ****"),
        ("Karl Karlsson", False, "070-123 ****"),
        ("Lisa Larsson", False, "070-123 ****"),
    ]
    event = AuditEvent.objects.get(action=Action.CAMPAIGN_CREATED)
    assert event.actor_username == "anna"
    assert event.data == {"kampanj": campaign.pk, "mottagare": 3, "med_samtycke": 1}


def test_skicka_queues_one_task_per_recipient_after_commit(
    staff_client: Client, django_capture_on_commit_callbacks: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sändjobben köas först när kampanjen är sparad, med mottagarens id som enda argument."""
    queued: list[tuple[Any, ...]] = []
    monkeypatch.setattr("campaigns.dispatch.async_task", lambda *args, **kwargs: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(LIST_URL, form_data(skicka="1"))
    ids = list(Recipient.objects.values_list("pk", flat=True))
    assert queued == [("campaigns.tasks.send_to_recipient", pk) for pk in ids]


def test_every_bad_line_is_named_and_everything_typed_is_kept(staff_client: Client) -> None:
    """Fel per rad på svenska, inget skapas, och allt som skrevs står kvar i formuläret."""
    bad = "Anna Andersson, 070-123 45 67, ja\nErik Eriksson, 08-123 45 67\nbara ett namn"
    data = form_data(recipients=bad, operation_type="knäoperation", skicka="1")
    response = staff_client.post(LIST_URL, data)
    html = response.content.decode()
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert "Rad 2: ogiltigt mobilnummer – ange ett svenskt mobilnummer, t.ex. 070-123 45 67." in html
    assert "Rad 3: ange namn och mobilnummer åtskilda av komma eller tabb." in html
    assert f">\n{bad}</textarea>" in html
    assert 'value="knäoperation"' in html and f'value="{data["slot_date"]}"' in html
    assert f'value="{data["request_id"]}"' in html
    assert response.context["preview"] is None


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"slot_date": (timezone.localdate() - timedelta(days=1)).isoformat()}, "Tiden har redan passerat."),
        ({"slot_date": "igår"}, "Ange ett giltigt datum."),
        ({"slot_time": "25:99"}, "Ange ett giltigt klockslag, t.ex. 08:00."),
        ({"recipients": ""}, "Klistra in minst en mottagare."),
        ({"operation_type": "ring 070-123 45 67"}, "Operationstypen får inte innehålla ett telefonnummer."),
        ({"recipients": "x" * 20_001}, "Listan är för lång."),
    ],
)
def test_bad_input_is_refused_in_swedish(staff_client: Client, changes: dict[str, str], message: str) -> None:
    """Felaktiga fält ger ett svenskt fel och aldrig en 500."""
    response = staff_client.post(LIST_URL, form_data(skicka="1", **changes))
    assert response.status_code == 200 and not Campaign.objects.exists()
    assert message in response.content.decode()


def test_detail_page_counts_progress_and_call_order(staff_client: Client, staff_user: Any) -> None:
    """Räknare, "Skickade 2/3", JA först med "Ring först", sedan reserv, NEJ, ej svarat."""
    patients = [
        ("Anna Andersson", "+46701234567", True),
        ("Karl Karlsson", "+46701234568", False),
        ("Lisa Larsson", "+46701234569", True),
        ("Olle Olsson", "+46701234570", False),
    ]
    campaign = make_campaign(staff_user, patients)
    send_all(campaign)
    Recipient.objects.filter(name="Olle Olsson").update(send_status=Recipient.SendStatus.FAILED)
    record_answer(recipient(campaign, "Lisa Larsson"), Recipient.Answer.YES)
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.NO)
    record_answer(recipient(campaign, "Anna Andersson"), Recipient.Answer.YES)

    response = staff_client.get(reverse("campaigns:detail", args=[campaign.pk]))
    html = response.content.decode()
    assert [row.name for row in response.context["rows"]] == [
        "Lisa Larsson",
        "Anna Andersson",
        "Karl Karlsson",
        "Olle Olsson",
    ]
    assert [getattr(row, "role", "") for row in response.context["rows"]] == ["Ring först", "Reserv 1", "", ""]
    # Olles SMS misslyckades: han står inte bland dem som väntar på svar.
    assert response.context["counts"] == {"sent": 3, "total": 4, "yes": 2, "no": 1, "waiting": 0}
    assert "Skickade 3/4" in html and '<progress id="sandning" class="campaign-progress" max="4" value="3">' in html
    assert "070-123 ****" in html and "misslyckades" in html and "skickat" in html
    assert "Tiden är tillsatt" in html and "Avsluta" in html and "csrfmiddlewaretoken" in html


def test_fill_closes_every_link_is_audited_and_a_second_press_is_harmless(
    staff_client: Client, staff_user: Any, admin_client_: Client
) -> None:
    """ "Tiden är tillsatt": status tillsatt, osända får aldrig SMS, vem som tryckte loggas; två tryck ofarliga."""
    campaign = make_campaign(staff_user)
    first = recipient(campaign, "Anna Andersson")
    from campaigns.tasks import send_to_recipient

    send_to_recipient(first.pk)
    url = reverse("campaigns:fill", args=[campaign.pk])
    assert staff_client.post(url)["Location"] == reverse("campaigns:detail", args=[campaign.pk])
    again = admin_client_.post(url, follow=True)
    assert "Kampanjen var redan stängd." in again.content.decode()
    assert admin_client_.post(reverse("campaigns:close", args=[campaign.pk])).status_code == 302

    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.FILLED and not campaign.is_open
    assert [r.send_status for r in campaign.recipients.order_by("pk")] == ["sent", "cancelled", "cancelled"]
    assert not campaign.recipients.exclude(phone_encrypted="").exists()
    events = AuditEvent.objects.filter(action__in=[Action.CAMPAIGN_FILLED, Action.CAMPAIGN_CLOSED])
    assert [(e.action, e.actor_username, e.data) for e in events] == [
        (Action.CAMPAIGN_FILLED, "anna", {"kampanj": campaign.pk})
    ]
    html = again.content.decode()
    # Knapparna för en öppen kampanj är dolda; "Öppna igen" syns (före tiden), och att ingen i listan fick tiden.
    assert "Tillsatt" in html and '<div class="d-flex flex-wrap gap-2" data-open-actions hidden>' in html
    assert "Tiden tillsattes utan patient från listan." in html


def test_close_is_audited_with_who(staff_client: Client, staff_user: Any) -> None:
    """ "Avsluta" stänger kampanjen och loggas med vem."""
    campaign = make_campaign(staff_user)
    page = staff_client.post(reverse("campaigns:close", args=[campaign.pk]), follow=True).content.decode()
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.CLOSED
    assert AuditEvent.objects.get(action=Action.CAMPAIGN_CLOSED).actor_username == "anna"
    # Beskedet säger det som patienterna ser (inte "tiden är tagen", som efter en tillsättning).
    assert "Kampanjen är avslutad. Patienternas länkar visar nu att förfrågan har upphört." in page
    patient = Client().get(f"/s/{recipient(campaign, 'Anna Andersson').code}").content.decode()
    assert "Förfrågan är avslutad" in patient


def test_status_buttons_only_accept_post(staff_client: Client, staff_user: Any) -> None:
    """En GET på knapparnas adress ändrar ingenting."""
    campaign = make_campaign(staff_user)
    assert staff_client.get(reverse("campaigns:fill", args=[campaign.pk])).status_code == 405
    campaign.refresh_from_db()
    assert campaign.status == Campaign.Status.ACTIVE


def test_campaign_pages_still_work_after_its_creator_is_deleted(staff_client: Client, django_user_model: Any) -> None:
    """En administratör raderar kontot som skapade en kampanj: listan och kampanjsidan visas som vanligt.

    Kampanjen står kvar (skaparen blir tom) och sidorna säger "(borttaget konto)"; förut gav båda
    felsidan 500 för all personal tills kampanjen raderades efter sju dagar.
    """
    creator = django_user_model.objects.create_user(username="sara", first_name="Sara", last_name="Sjöberg")
    campaign = make_campaign(creator)
    creator.delete()
    listing = staff_client.get(LIST_URL)
    detail = staff_client.get(reverse("campaigns:detail", args=[campaign.pk]))
    assert (listing.status_code, detail.status_code) == (200, 200)
    assert "(borttaget konto)" in listing.content.decode() and "(borttaget konto)" in detail.content.decode()


def test_unknown_campaign_is_404(staff_client: Client) -> None:
    """En kampanj som inte finns (eller raderats): 404, ingen 500."""
    assert staff_client.get("/personal/akut-sms/999/").status_code == 404
    assert staff_client.post("/personal/akut-sms/999/tillsatt/").status_code == 404


def test_missing_or_invented_request_id_still_works(staff_client: Client) -> None:
    """Det dolda engångs-id:t saknas eller är påhittat: kampanjen skapas ändå, en gång."""
    data = form_data(skicka="1", request_id="inte-ett-uuid" * 10)
    assert staff_client.post(LIST_URL, data).status_code == 302
    del data["request_id"]
    data["recipients"] = "Olle Olsson, 070-123 45 70"
    assert staff_client.post(LIST_URL, data).status_code == 302
    assert Campaign.objects.count() == 2
    assert all(uuid.UUID(c.request_id) for c in Campaign.objects.all())


def test_list_shows_campaigns(staff_client: Client, staff_user: Any) -> None:
    """Kampanjlistan visar tid, status, skickade och JA."""
    campaign = make_campaign(staff_user, slot_at=tomorrow_at(14, 30))
    send_all(campaign)
    record_answer(recipient(campaign, "Karl Karlsson"), Recipient.Answer.YES)
    html = staff_client.get(LIST_URL).content.decode()
    assert "kl 14:30" in html and ">3/3<" in html and ">1<" in html and "aktiv" in html


def test_running_campaigns_stand_above_the_form_and_closed_ones_below(staff_client: Client, staff_user: Any) -> None:
    """Pågående kampanjer först, ovanför formuläret; en avslutad kampanj under det, hur ny den än är."""
    running = make_campaign(staff_user, slot_at=tomorrow_at(9, 15))
    closed = make_campaign(staff_user, slot_at=tomorrow_at(14, 30))
    staff_client.post(reverse("campaigns:close", args=[closed.pk]))
    html = staff_client.get(LIST_URL).content.decode()
    running_at = html.index('data-testid="pagaende-kampanjer"')
    form_at = html.index('data-testid="kampanjformular"')
    earlier_at = html.index('data-testid="kampanjlista"')
    assert running_at < html.index("kl 09:15") < form_at < earlier_at < html.index("kl 14:30")
    assert html.index("Pågående kampanjer") < form_at and running.pk != closed.pk


def test_example_texts_do_not_look_like_filled_in_values(staff_client: Client) -> None:
    """Exemplen i tomma fält börjar med "t.ex.", på kampanjsidan och på sändsidan."""
    campaign_form = staff_client.get(LIST_URL).content.decode()
    send_page = staff_client.get(reverse("smsportal:send")).content.decode()
    placeholders = re.findall(r'placeholder="([^"]+)"', campaign_form) + re.findall(r'placeholder="([^"]+)"', send_page)
    assert 'placeholder="t.ex. axeloperation"' in campaign_form
    assert 'placeholder="t.ex. Anna Andersson, 070-123 45 67, ja"' in campaign_form
    examples = [text for text in placeholders if not text.startswith("Välj en mall")]
    assert examples and all(text.startswith("t.ex. ") for text in examples), examples
