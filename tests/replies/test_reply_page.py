"""Patientens sida /s/<kod>: GET ändrar inget, svar med POST, JA-ordning, stängda och okända länkar."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.forms.models import model_to_dict
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from campaigns.models import Campaign, Recipient
from campaigns.outcomes import record_call_outcome
from campaigns.services import change_status
from tests.campaigns.factories import make_campaign, recipient, send_all
from tests.privacy import phone_forms


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj för axeloperation i morgon kl 08:00, med SMS:en skickade."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    return campaign


@pytest.fixture
def csrf_client(db: Any) -> Client:
    """En patients telefon: CSRF kontrolleras som i drift."""
    return Client(enforce_csrf_checks=True)


def url(person: Recipient) -> str:
    """Patientens länk."""
    return f"/s/{person.code}"


def answer(client: Client, person: Recipient, choice: str) -> Any:
    """Öppnar sidan och trycker på knappen (med sidans CSRF-token), som en telefon gör."""
    page = client.get(url(person)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return client.post(url(person), {"svar": choice, "csrfmiddlewaretoken": token.group(1) if token else ""})


def snapshot(campaign: Campaign) -> list[dict[str, Any]]:
    """Kampanjens och mottagarnas rader, för jämförelse före och efter."""
    return [model_to_dict(campaign)] + [model_to_dict(r) for r in campaign.recipients.order_by("pk")]


def test_get_and_head_change_nothing(client: Client, campaign: Campaign) -> None:
    """Länkförhandsvisningar i meddelandeappar öppnar länken: ingenting ändras."""
    before = snapshot(Campaign.objects.get(pk=campaign.pk))
    person = recipient(campaign, "Anna Andersson")
    for _ in range(3):
        assert client.get(url(person)).status_code == 200
        assert client.head(url(person)).status_code == 200
    after = snapshot(Campaign.objects.get(pk=campaign.pk))
    assert after == before and recipient(campaign, "Anna Andersson").opened_at is None


def test_question_page_with_consent_shows_name_operation_and_time_never_the_number(
    client: Client, campaign: Campaign
) -> None:
    """Med samtycke: förnamn och operationstyp; tiden; två stora knappar; aldrig ett nummer."""
    html = client.get(url(recipient(campaign, "Anna Andersson"))).content.decode()
    assert "Hej Anna!" in html and "Andersson" not in html
    assert "En operationstid för din axeloperation har blivit ledig:" in html
    assert re.search(
        r"data-testid=\"tid\">[A-ZÅÄÖ][a-zåäö]+dag \d+ [a-z]+ \d{4}, <span class=\"text-nowrap\">kl 08:00</span><", html
    )
    assert 'name="svar" value="ja"' in html and 'name="svar" value="nej"' in html
    assert not [form for form in phone_forms("+46701234567") if form in html]
    assert "070-123" not in html


def test_question_page_without_consent_is_vague(client: Client, campaign: Campaign) -> None:
    """Utan samtycke: inget namn, ingen operationstyp."""
    html = client.get(url(recipient(campaign, "Karl Karlsson"))).content.decode()
    assert "Hej!" in html and "Karl" not in html and "axel" not in html and "operation" not in html
    assert "En tid har blivit ledig:" in html
    assert "070-123" not in html


def test_noindex_meta_and_header(client: Client, campaign: Campaign) -> None:
    """Sökmotorer ska inte indexera sidorna: både meta-tagg och X-Robots-Tag."""
    for path in (url(recipient(campaign, "Anna Andersson")), "/s/okand"):
        response = client.get(path)
        assert response["X-Robots-Tag"] == "noindex, nofollow"
        assert '<meta name="robots" content="noindex, nofollow">' in response.content.decode()


def test_post_requires_csrf(csrf_client: Client, campaign: Campaign) -> None:
    """Svaret är en POST med CSRF: utan token ändras ingenting."""
    person = recipient(campaign, "Anna Andersson")
    assert csrf_client.post(url(person), {"svar": "ja"}).status_code == 403
    assert recipient(campaign, "Anna Andersson").answer == ""


def test_yes_then_thanks_and_call_order(campaign: Campaign) -> None:
    """Första JA: "Vi ringer dig"; nästa JA: reserv nr 1; NEJ: ordinarie tid kvarstår."""
    lisa, anna, karl = Client(), Client(), Client()
    assert answer(lisa, recipient(campaign, "Lisa Larsson"), "ja")["Location"] == url(
        recipient(campaign, "Lisa Larsson")
    )
    answer(anna, recipient(campaign, "Anna Andersson"), "ja")
    answer(karl, recipient(campaign, "Karl Karlsson"), "nej")

    first = lisa.get(url(recipient(campaign, "Lisa Larsson"))).content.decode()
    assert "Tack!" in first and "Vi ringer dig inom kort för att bekräfta." in first
    assert "Detta är inte en slutgiltig bokning ännu." in first and "kl 08:00" in first
    second = anna.get(url(recipient(campaign, "Anna Andersson"))).content.decode()
    assert "Du är reserv nr 1." in second
    no = karl.get(url(recipient(campaign, "Karl Karlsson"))).content.decode()
    assert "Vi noterar att du inte kan komma denna gång. Din ordinarie tid kvarstår." in no
    assert recipient(campaign, "Lisa Larsson").yes_rank == 1 and recipient(campaign, "Anna Andersson").yes_rank == 2
    assert recipient(campaign, "Karl Karlsson").answered_at is not None


def test_the_page_follows_the_calls_staff_have_noted(campaign: Campaign, staff_user: Any) -> None:
    """Samma ordning som personalens sida: den som inte nåddes eller tackade nej i telefon får veta det,
    och nästa JA blir "Vi ringer dig" (förut räknades alla JA: "reserv nr 1" för den som stod först
    hos personalen, och "Vi ringer dig inom kort" för den som redan ringts utan svar)."""
    lisa, anna, karl = (recipient(campaign, name) for name in ("Lisa Larsson", "Anna Andersson", "Karl Karlsson"))
    for person in (lisa, anna, karl):
        answer(Client(), person, "ja")

    def page(person: Recipient) -> str:
        """Patientens sida just nu."""
        return Client().get(url(person)).content.decode()

    record_call_outcome(campaign, lisa.pk, Recipient.CallOutcome.NOT_REACHED, staff_user)
    assert "Vi försökte ringa dig men nådde dig inte" in page(lisa) and "reserv nr" not in page(lisa)
    assert "Vi ringer dig inom kort för att bekräfta." in page(anna)
    assert "Du är reserv nr 1." in page(karl)

    record_call_outcome(campaign, anna.pk, Recipient.CallOutcome.DECLINED, staff_user)
    assert "Du tackade nej i telefon till tiden" in page(anna) and "Din ordinarie tid kvarstår." in page(anna)
    assert "Vi ringer dig inom kort för att bekräfta." in page(karl)


def test_answer_change_moves_the_queue(campaign: Campaign) -> None:
    """Första JA ändrar till NEJ: nästa blir först; ett nytt JA hamnar sist."""
    lisa, anna = Client(), Client()
    answer(lisa, recipient(campaign, "Lisa Larsson"), "ja")
    answer(anna, recipient(campaign, "Anna Andersson"), "ja")
    answer(lisa, recipient(campaign, "Lisa Larsson"), "nej")
    assert recipient(campaign, "Lisa Larsson").answer == "no"
    assert "Vi ringer dig inom kort" in anna.get(url(recipient(campaign, "Anna Andersson"))).content.decode()
    answer(lisa, recipient(campaign, "Lisa Larsson"), "ja")
    assert "Du är reserv nr 1." in lisa.get(url(recipient(campaign, "Lisa Larsson"))).content.decode()


def test_same_answer_twice_keeps_the_place(campaign: Campaign) -> None:
    """JA två gånger (dubbelklick): platsen och svarstiden står kvar."""
    anna = Client()
    answer(anna, recipient(campaign, "Anna Andersson"), "ja")
    before = recipient(campaign, "Anna Andersson")
    anna.post(url(before), {"svar": "ja"})
    after = recipient(campaign, "Anna Andersson")
    assert (after.yes_rank, after.answered_at) == (before.yes_rank, before.answered_at)


def statements(queries: CaptureQueriesContext) -> list[str]:
    """De fångade frågorna utom transaktionens egna (BEGIN, COMMIT, sparpunkter skiljer mellan databaserna)."""
    transaction_sql = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT|RELEASE)\b")
    return [query["sql"] for query in queries.captured_queries if not transaction_sql.match(query["sql"])]


def test_page_and_answer_read_the_database_a_fixed_number_of_times(client: Client, campaign: Campaign) -> None:
    """Alla patienter kan svara på samma minut: frågan läser databasen en gång (mottagaren med
    kampanjen och avböjandet), NEJ sparas med två frågor (kampanjens lås, svaret) och JA med tre (även
    platsen i kön); tacksidan efter JA läser också platsen. Ett fält som sidorna läser men som inte
    hämtas (campaigns.services.PATIENT_PAGE_FIELDS) blir här en fråga till."""
    karl, anna = recipient(campaign, "Karl Karlsson"), recipient(campaign, "Anna Andersson")
    with CaptureQueriesContext(connection) as page:
        assert "Kan du komma med kort varsel?" in client.get(url(karl)).content.decode()
    with CaptureQueriesContext(connection) as no:
        assert client.post(url(karl), {"svar": "nej"})["Location"] == url(karl)
    with CaptureQueriesContext(connection) as yes:
        assert client.post(url(anna), {"svar": "ja"})["Location"] == url(anna)
    with CaptureQueriesContext(connection) as thanks:
        assert "Vi ringer dig inom kort" in client.get(url(anna)).content.decode()
    assert [len(statements(queries)) for queries in (page, no, yes, thanks)] == [1, 2, 3, 2]
    assert recipient(campaign, "Karl Karlsson").answer == "no" and recipient(campaign, "Anna Andersson").yes_rank == 1


@pytest.mark.parametrize("value", ["", "kanske", "JA" * 1000])
def test_nonsense_answer_changes_nothing(client: Client, campaign: Campaign, value: str) -> None:
    """Ett påhittat svar: tillbaka till frågan, inget sparas, ingen 500."""
    person = recipient(campaign, "Anna Andersson")
    assert client.post(url(person), {"svar": value})["Location"] == url(person)
    assert recipient(campaign, "Anna Andersson").answer == ""


@pytest.mark.parametrize("status", [Campaign.Status.FILLED, Campaign.Status.CLOSED, "passerad"])
def test_taken_page_after_filled_closed_or_slot_passed(
    client: Client, campaign: Campaign, staff_user: Any, status: str
) -> None:
    """Tillsatt: tiden är tagen; avslutad eller passerad: erbjudandet har upphört (ingen sägs ha fått
    tiden). Den egna bokningen står kvar, och ett svar då ändrar ingenting."""
    yes_client = Client()
    answer(yes_client, recipient(campaign, "Anna Andersson"), "ja")
    if status == "passerad":
        traveller = time_machine.travel(campaign.slot_at + timedelta(minutes=1))
    else:
        change_status(campaign, staff_user, status)
        traveller = time_machine.travel(timezone.now())
    with traveller:
        lisa = recipient(campaign, "Lisa Larsson")
        html = client.get(url(lisa)).content.decode()
        if status == Campaign.Status.FILLED:
            assert "Tiden är inte längre ledig" in html
            assert "Tiden är tyvärr redan tillsatt. Din ordinarie tid kvarstår." in html
        else:
            assert "Förfrågan är avslutad" in html and "tillsatt" not in html
            assert "Erbjudandet om den här tiden har upphört. Din ordinarie tid kvarstår." in html
        assert 'name="svar"' not in html
        assert client.post(url(lisa), {"svar": "ja"}).status_code == 302
        assert recipient(campaign, "Lisa Larsson").answer == ""
        said_yes = yes_client.get(url(recipient(campaign, "Anna Andersson"))).content.decode()
        assert "Har vi ringt dig och bekräftat tiden gäller den bokningen." in said_yes
        assert "Annars kvarstår din ordinarie tid." in said_yes


@pytest.mark.parametrize("code", ["finnsInteAlls12345", "x", "a" * 200, "%C3%A5%20%3Cscript%3E", "..%2F..%2Fetc"])
def test_unknown_codes_get_one_and_the_same_page(client: Client, db: Any, code: str) -> None:
    """Alla okända koder (även konstiga) får samma svenska sida, ingen 500."""
    response = client.get(f"/s/{code}")
    reference = client.get("/s/finnsInteAlls12345")
    assert response.status_code == 404
    assert response.content == reference.content
    assert "Länken gäller inte längre" in response.content.decode()
    assert client.post(f"/s/{code}", {"svar": "ja"}).content == reference.content


def test_opened_is_noted_only_by_the_page_script(client: Client, campaign: Campaign) -> None:
    """Sidans skript (POST) noterar öppnad; okänd kod ger samma tomma svar."""
    person = recipient(campaign, "Anna Andersson")
    assert client.post(f"/s/{person.code}/oppnad").status_code == 204
    assert client.post("/s/okand/oppnad").status_code == 204
    assert client.get(f"/s/{person.code}/oppnad").status_code == 405
    assert recipient(campaign, "Anna Andersson").opened_at is not None


def test_the_script_address_opened_in_a_browser_gets_the_patient_page(client: Client, campaign: Campaign) -> None:
    """Skriptets adress öppnad direkt: svensk sida 405 i patientlayouten (ingen personalmeny), inte en tom sida;
    öppningen noteras inte."""
    person = recipient(campaign, "Anna Andersson")
    response = client.get(f"/s/{person.code}/oppnad")
    page = response.content.decode()
    assert response.status_code == 405 and "Sidan kan inte öppnas så här" in page
    assert "Länken i ditt SMS fortsätter att gälla" in page and "Till startsidan" not in page
    assert recipient(campaign, "Anna Andersson").opened_at is None


def test_rate_limit_per_ip_gives_the_swedish_page(client: Client, campaign: Campaign) -> None:
    """Fler än 60 anrop i minuten från samma adress: 429 på svenska; en annan adress påverkas inte.

    Cachen töms före testet (conftest), så gränsen räknas från noll.
    """
    path = url(recipient(campaign, "Anna Andersson"))
    # Gränsens fönster är en hel minut (django-ratelimit): tiden står still, annars kan en
    # minutgräns mitt i testet nollställa räkningen.
    with time_machine.travel(timezone.now().replace(second=5), tick=False):
        for _ in range(60):
            assert client.get(path, REMOTE_ADDR="203.0.113.7").status_code == 200
        limited = client.get(path, REMOTE_ADDR="203.0.113.7")
        assert limited.status_code == 429
        html = limited.content.decode()
        assert "För många försök" in html and "Vänta en minut och försök igen." in html
        assert limited["X-Robots-Tag"] == "noindex, nofollow"
        assert client.post(path, {"svar": "ja"}, REMOTE_ADDR="203.0.113.7").status_code == 429
        assert recipient(campaign, "Anna Andersson").answer == ""
    assert client.get(path, REMOTE_ADDR="203.0.113.8").status_code == 200
