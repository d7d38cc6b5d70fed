""" "Jag vill inte få fler sådana SMS": bara hashen och datumet sparas, GET ändrar inget, nästa
kampanj lämnar ut numret med ett svenskt besked, administratören tar bort avböjandet genom att
skriva numret, och raderna raderas efter lagringstiden."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from audit.models import Action, AuditEvent
from campaigns.models import Campaign, OptOut, Recipient
from campaigns.optout import purge_opt_outs
from campaigns.services import change_status
from tests.campaigns.factories import make_campaign, recipient, send_all, tomorrow_at
from tests.privacy import database_text, leaks, phone_forms, phone_pattern, portal_log

ANNA_PHONE = "+46701234567"
LIST_URL = reverse("campaigns:list")


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj i morgon kl 08:00, med SMS:en skickade."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    return campaign


@pytest.fixture
def phone(db: Any) -> Client:
    """En patients telefon: CSRF kontrolleras som i drift."""
    return Client(enforce_csrf_checks=True)


def press(client: Client, page_url: str, button: str = 'data-testid="inga-fler"') -> Any:
    """Öppnar sidan och trycker på knappen "Jag vill inte få fler sådana SMS" i dess formulär."""
    page = client.get(page_url).content.decode()
    form = re.search(r'<form method="post"(?: action="([^"]*)")?[^>]*>(?:(?!</form>).)*' + button, page, re.S)
    assert form, "knappen finns inte på sidan"
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.group(0))
    assert token
    return client.post(form.group(1) or page_url, {"csrfmiddlewaretoken": token.group(1)}, follow=True)


def test_the_question_page_offers_opt_out_and_only_the_hash_and_date_are_kept(
    phone: Client, campaign: Campaign
) -> None:
    """Knappen längst ned på frågan: en rad med mottagarens nyckelhash och dagens datum, en bekräftelse."""
    anna = recipient(campaign, "Anna Andersson")
    with portal_log() as log:
        response = press(phone, f"/s/{anna.code}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Du får inga fler förfrågningar" in html and "Vi skickar inga fler SMS om lediga tider" in html
    opt_out = OptOut.objects.get()
    assert opt_out.phone_hash == anna.phone_hash and opt_out.created_on == timezone.localdate()
    # Integritetskanariefågeln: numret finns ingenstans, bara hashen.
    assert (
        leaks([phone_pattern(ANNA_PHONE), *phone_forms(ANNA_PHONE)], database=database_text(), log=log.getvalue()) == []
    )
    assert anna.phone_hash in database_text()
    event = AuditEvent.objects.get(action=Action.OPT_OUT_ADDED)
    assert event.data == {} and event.actor_username == "patient"
    # Sidorna visar efteråt att valet är gjort, och erbjuder inte knappen igen.
    page = phone.get(f"/s/{anna.code}").content.decode()
    assert "Du har bett att inte få fler förfrågningar" in page and 'data-testid="inga-fler"' not in page


def test_get_changes_nothing(client: Client, campaign: Campaign) -> None:
    """Länkförhandsvisningar öppnar även opt-out-adressen: ingen rad skapas."""
    anna = recipient(campaign, "Anna Andersson")
    for _ in range(3):
        response = client.get(f"/s/{anna.code}/inga-fler")
        assert response.status_code == 200 and "Inga fler förfrågningar?" in response.content.decode()
        assert client.head(f"/s/{anna.code}/inga-fler").status_code == 200
    assert not OptOut.objects.exists() and not AuditEvent.objects.filter(action=Action.OPT_OUT_ADDED).exists()


def test_post_without_csrf_is_refused(phone: Client, campaign: Campaign) -> None:
    """Utan CSRF-token sparas ingenting."""
    anna = recipient(campaign, "Anna Andersson")
    assert phone.post(f"/s/{anna.code}/inga-fler").status_code == 403
    assert not OptOut.objects.exists()


def test_opt_out_is_offered_right_after_nej_and_is_idempotent(phone: Client, campaign: Campaign) -> None:
    """Efter NEJ står knappen direkt under svaret; två tryck ger en rad med det första datumet."""
    karl = recipient(campaign, "Karl Karlsson")
    page = phone.get(f"/s/{karl.code}").content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token
    thanks = phone.post(f"/s/{karl.code}", {"svar": "nej", "csrfmiddlewaretoken": token.group(1)}, follow=True)
    html = thanks.content.decode()
    assert html.count('data-testid="inga-fler"') == 1
    assert html.index("inte kan komma denna gång") < html.index('data-testid="inga-fler"') < html.index("Vid frågor")
    press(phone, f"/s/{karl.code}")
    with time_machine.travel(timezone.now() + timedelta(days=3)):
        response = phone.post(f"/s/{karl.code}/inga-fler", {"csrfmiddlewaretoken": token.group(1)}, follow=True)
    assert response.status_code == 200 and "Du får inga fler förfrågningar" in response.content.decode()
    assert list(OptOut.objects.values_list("created_on", flat=True)) == [timezone.localdate()]
    assert AuditEvent.objects.filter(action=Action.OPT_OUT_ADDED).count() == 1


def test_opt_out_works_after_the_campaign_closed(phone: Client, campaign: Campaign, staff_user: Any) -> None:
    """Så länge koden finns går det att avböja, även när kampanjen är avslutad."""
    change_status(campaign, staff_user, Campaign.Status.CLOSED)
    lisa = recipient(campaign, "Lisa Larsson")
    press(phone, f"/s/{lisa.code}")
    assert OptOut.objects.filter(phone_hash=lisa.phone_hash).exists()


def test_unknown_code_gets_the_unknown_page(phone: Client, db: Any) -> None:
    """En okänd kod får samma sida som alltid, och ingenting sparas."""
    assert phone.get("/s/finnsinte123456789/inga-fler").status_code == 404
    assert not OptOut.objects.exists()


def test_patient_pages_show_the_clinic_phone(client: Client, campaign: Campaign, settings: Any) -> None:
    """ "Vid frågor" och hur man återkallar sitt samtycke, med klinikens nummer som länk."""
    settings.CLINIC_PHONE = "08-123 45 67"
    html = client.get(f"/s/{recipient(campaign, 'Anna Andersson').code}").content.decode()
    assert 'Vid frågor: <a href="tel:081234567" class="text-nowrap">08-123 45 67</a>' in html
    assert "återkalla ditt samtycke till SMS om dina bokningar? Ring kliniken på" in html
    assert "Vid frågor: " in client.get("/s/finnsinte123456789").content.decode()


def test_data_protection_page_states_the_opt_out_rule(client: Client, db: Any, settings: Any) -> None:
    """Dataskyddssidan säger vad som sparas vid avböjande, hur länge och hur man ångrar sig."""
    settings.OPT_OUT_RETENTION_DAYS = 200
    settings.CLINIC_PHONE = "08-123 45 67"
    html = client.get(reverse("data_protection")).content.decode()
    assert (
        "Jag vill inte få fler sådana SMS" in html
        and "i 200 dagar" in html
        and "ringer du kliniken på 08-123 45 67" in html
    )


def opt_out(campaign: Campaign, name: str) -> Recipient:
    """Patienten trycker på knappen på sin sida."""
    person = recipient(campaign, name)
    press(Client(enforce_csrf_checks=True), f"/s/{person.code}")
    return person


def test_a_later_campaign_leaves_the_number_out_with_a_swedish_notice(staff_client: Client, campaign: Campaign) -> None:
    """Raden namnges (rad och namn, aldrig numret) i förhandsgranskningen; efter skapandet sägs hur
    många rader som lämnades ut, utan namn (meddelandet sparas i en kaka till nästa sida); resten skapas."""
    opt_out(campaign, "Anna Andersson")
    data = {
        "slot_date": tomorrow_at().date().isoformat(),
        "slot_time": "10:00",
        "recipients": "Olle Olsson, 070-123 45 70\nKarl Karlsson, 070-123 45 68\nAnna A, 070 123 45 67, ja",
        "request_id": str(uuid.uuid4()),
    }
    notice = "Rad 3: Anna A har bett att inte få fler förfrågningar och får inget SMS."
    with portal_log() as log:
        preview = staff_client.post(LIST_URL, data).content.decode()
        assert notice in preview and "Skicka till 2 mottagare" in preview
        assert "1 rad lämnas utanför" in preview
        created = staff_client.post(LIST_URL, {**data, "skicka": "1"}, follow=True)
    html = created.content.decode()
    assert "1 rad lämnades utanför: patienten har bett att inte få fler förfrågningar." in html
    assert "Anna A" not in html
    later = Campaign.objects.exclude(pk=campaign.pk).get()
    assert list(later.recipients.values_list("name", flat=True)) == ["Olle Olsson", "Karl Karlsson"]
    assert leaks([phone_pattern(ANNA_PHONE)], log=log.getvalue()) == []
    assert "070-123 45 67" not in notice


def test_a_list_of_only_opted_out_numbers_is_refused(staff_client: Client, campaign: Campaign) -> None:
    """Finns ingen mottagare kvar skapas ingen kampanj, och listan står kvar."""
    opt_out(campaign, "Anna Andersson")
    data = {
        "slot_date": tomorrow_at().date().isoformat(),
        "slot_time": "10:00",
        "recipients": "Anna Andersson, 0701234567",
        "request_id": str(uuid.uuid4()),
        "skicka": "1",
    }
    response = staff_client.post(LIST_URL, data)
    html = response.content.decode()
    assert response.status_code == 200 and "Ingen mottagare kvar" in html and "Anna Andersson, 0701234567" in html
    assert Campaign.objects.count() == 1


def test_admin_removes_an_opt_out_by_typing_the_number(admin_client_: Client, campaign: Campaign) -> None:
    """Listan visar bara datum; numret skrivs in, hashas, raden raderas och audit saknar numret."""
    anna = opt_out(campaign, "Anna Andersson")
    changelist = admin_client_.get("/admin/campaigns/optout/").content.decode()
    assert f'<td class="field-created_on nowrap">{date_format(timezone.localdate())}</td>' in changelist
    assert anna.phone_hash not in changelist and "Ta bort avböjande" in changelist
    remove_url = reverse("admin:campaigns_optout_remove")
    # En rad raderas aldrig via sitt id (utan nummer och utan audit): adminens radera-sida leder hit.
    row = OptOut.objects.get()
    delete_page = admin_client_.post(f"/admin/campaigns/optout/{row.pk}/delete/", {"post": "yes"})
    assert delete_page["Location"] == remove_url and OptOut.objects.count() == 1
    assert anna.phone_hash not in admin_client_.get(f"/admin/campaigns/optout/{row.pk}/change/").content.decode()
    wrong = admin_client_.post(remove_url, {"phone": "08-123 45 67"})
    assert "Ange ett svenskt mobilnummer" in wrong.content.decode() and OptOut.objects.count() == 1
    other = admin_client_.post(remove_url, {"phone": "070-123 45 99"}, follow=True)
    assert "Numret fanns inte bland de avböjda" in other.content.decode() and OptOut.objects.count() == 1
    with portal_log() as log:
        done = admin_client_.post(remove_url, {"phone": "070 123 45 67"}, follow=True)
    assert "Avböjandet är borttaget" in done.content.decode()
    assert not OptOut.objects.exists()
    event = AuditEvent.objects.get(action=Action.OPT_OUT_REMOVED)
    assert event.actor_username == "chef"
    assert leaks([phone_pattern(ANNA_PHONE)], database=database_text(), log=log.getvalue()) == []


def test_staff_without_admin_rights_cannot_remove(staff_client: Client, campaign: Campaign) -> None:
    """Vanlig personal når inte admin-sidan."""
    opt_out(campaign, "Anna Andersson")
    response = staff_client.post(reverse("admin:campaigns_optout_remove"), {"phone": "0701234567"})
    assert response.status_code in (302, 403) and OptOut.objects.count() == 1


def test_opt_outs_are_deleted_after_the_retention(campaign: Campaign, settings: Any) -> None:
    """Efter OPT_OUT_RETENTION_DAYS raderas raden (schemat varje natt); en yngre finns kvar."""
    settings.OPT_OUT_RETENTION_DAYS = 365
    opt_out(campaign, "Anna Andersson")
    with time_machine.travel(timezone.now() + timedelta(days=100)):
        opt_out(campaign, "Karl Karlsson")
    with time_machine.travel(timezone.now() + timedelta(days=365)):
        assert purge_opt_outs() == 0
    with time_machine.travel(timezone.now() + timedelta(days=366)):
        assert purge_opt_outs() == 1
    assert list(OptOut.objects.values_list("phone_hash", flat=True)) == [
        recipient(campaign, "Karl Karlsson").phone_hash
    ]
