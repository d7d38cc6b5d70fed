"""PATIENT_PAGE_DETAILS: med den avstängd visar ingen patientsida namn eller operationstyp.

Standard (på): den som samtyckt ser sitt förnamn och operationstypen, som i SMS:et. Av: varje
sida under /s/ visar bara tiden och kliniken, för alla, eftersom länken i SMS:et inte är någon
stark autentisering (HSLF-FS 2016:40 3 kap. 15 §).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from campaigns.models import Campaign, Recipient
from campaigns.services import change_status
from tests.accounts.test_security import manage, production_env
from tests.campaigns.factories import make_campaign, recipient, send_all
from tests.replies.test_reply_page import answer, url

#: Mottagarnas namn (båda delarna) och kampanjens operationstyp (factories.PATIENTS, make_campaign),
#: sökta som hela ord ("Annars" på sidan om tagen tid är inte "Anna").
PERSONAL_WORDS = ["Anna", "Andersson", "Karl", "Karlsson", "axeloperation"]


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj för axeloperation i morgon kl 08:00; Anna har samtyckt, Karl inte."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    return campaign


def every_patient_page(person: Recipient, staff_user: Any) -> list[str]:
    """Varje sida patienten ser: frågan, tack efter JA, efter ändring till NEJ och tillbaka till JA,
    tiden tagen, felsidorna (svar utan CSRF-token 403, fel metod 405) och sidan för en okänd
    adress under den egna koden (404)."""
    phone = Client(enforce_csrf_checks=True)
    pages = [phone.get(url(person))]
    for choice in ("ja", "nej", "ja"):
        assert answer(phone, person, choice).status_code == 302
        pages.append(phone.get(url(person)))
    change_status(person.campaign, staff_user, Campaign.Status.FILLED)
    pages += [phone.get(url(person)), phone.post(url(person), {"svar": "ja"}), Client().put(url(person))]
    pages.append(phone.get(url(person) + "/"))
    assert [page.status_code for page in pages] == [200, 200, 200, 200, 200, 403, 405, 404]
    return [page.content.decode() for page in pages]


@pytest.mark.parametrize("name", ["Anna Andersson", "Karl Karlsson"])
def test_without_details_no_patient_page_shows_name_or_operation(
    settings: Any, campaign: Campaign, staff_user: Any, name: str
) -> None:
    """PATIENT_PAGE_DETAILS=false: frågan, tacksidorna, ändrat svar, tagen tid och felsidorna har
    varken namn eller operationstyp, med eller utan samtycke; frågan visar tiden och kliniken."""
    settings.PATIENT_PAGE_DETAILS = False
    pages = every_patient_page(recipient(campaign, name), staff_user)
    found = [
        (word, number)
        for number, page in enumerate(pages)
        for word in PERSONAL_WORDS
        if re.search(rf"\b{word}\b", page)
    ]
    assert found == []
    question, yes, no = pages[0], pages[1], pages[2]
    assert "Hej!" in question and "En tid har blivit ledig:" in question and "operation" not in question
    assert "kl 08:00" in question and "Södermalms Ortopedi" in question
    assert "Du har svarat JA till tiden" in yes and "Vi noterar att du inte kan komma" in no
    assert "Tiden är inte längre ledig" in pages[4]


@pytest.mark.parametrize(("details", "shown"), [(True, True), (False, False)])
def test_consenting_patient_sees_name_and_operation_only_with_details(
    settings: Any, campaign: Campaign, details: bool, shown: bool
) -> None:
    """Med samtycke: förnamn och operationstyp när inställningen är på, inget av dem när den är av."""
    settings.PATIENT_PAGE_DETAILS = details
    html = Client().get(url(recipient(campaign, "Anna Andersson"))).content.decode()
    assert ("Hej Anna!" in html) is shown
    assert ("En operationstid för din axeloperation har blivit ledig:" in html) is shown
    assert ("En tid har blivit ledig:" in html) is not shown


def test_details_are_shown_by_default(client: Client, campaign: Campaign) -> None:
    """Utan inställning visas förnamn och operationstyp för den som samtyckt, som förut; aldrig
    för den som inte samtyckt."""
    assert django_settings.PATIENT_PAGE_DETAILS is True
    consenting = client.get(url(recipient(campaign, "Anna Andersson"))).content.decode()
    assert "Hej Anna!" in consenting and "för din axeloperation" in consenting
    vague = client.get(url(recipient(campaign, "Karl Karlsson"))).content.decode()
    assert "Karl" not in vague and "axeloperation" not in vague


def test_setting_is_read_from_the_environment() -> None:
    """`PATIENT_PAGE_DETAILS=false` i miljön stänger av det; standard är på."""
    script = "from django.conf import settings; print(settings.PATIENT_PAGE_DETAILS)"
    assert (
        manage("shell", "--no-imports", "-c", script, env=production_env(PATIENT_PAGE_DETAILS="false")).stdout.strip()
        == "False"
    )
    assert manage("shell", "--no-imports", "-c", script, env=production_env()).stdout.strip() == "True"
