"""Egenskapstester för patientens sidor /s/<kod> och /s/<kod>/oppnad.

Slumpade och fientliga koder (även ogiltig UTF-8 och mycket långa adresser), slumpade svar,
med och utan CSRF-token. Varje exempel kommer från en egen IP-adress, så att IP-gränsen
(60 anrop i minuten) aldrig döljer ett fall och ingen delad cache behöver tömmas.
"""

from __future__ import annotations

import re
import secrets
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from campaigns.models import Campaign
from tests.campaigns.factories import make_campaign, send_all
from tests.fuzz.checks import FUZZ, TEXT, assert_clean, new_address

#: En kod i adressen: slumpad text, slumpade byte (ogiltig UTF-8), långa koder, nästan riktiga.
CODE = st.one_of(
    TEXT.map(lambda text: quote(text, safe="")),
    st.binary(max_size=40).map(lambda raw: quote(raw, safe="")),
    st.integers(min_value=33, max_value=5000).map(lambda length: "A" * length),
    st.text("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789/.%", min_size=1, max_size=40),
)
ANSWER = st.one_of(TEXT, st.sampled_from(["ja", "nej", "JA", "ja ", "nej\x00", "kanske"]))


def csrf_token(client: Client, url: str, address: str) -> str:
    """Sidans CSRF-token, som telefonen får när den öppnar sidan."""
    page = client.get(url, REMOTE_ADDR=address).content.decode()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    return match.group(1) if match else ""


@pytest.fixture
def campaign(staff_user: Any) -> Campaign:
    """En aktiv kampanj med skickade SMS (riktiga koder att blanda in)."""
    campaign = make_campaign(staff_user)
    send_all(campaign)
    return campaign


@pytest.fixture
def phone(db: Any) -> Client:
    """En patients telefon: CSRF kontrolleras som i drift."""
    return Client(enforce_csrf_checks=True)


@FUZZ
@given(code=CODE, method=st.sampled_from(["get", "head", "put", "delete", "options"]))
def test_unknown_codes_get_the_same_page(phone: Client, code: str, method: str) -> None:
    """Okända koder ger samma svenska sida (404); PUT/DELETE stoppas av CSRF (403) eller ger 404/405."""
    response = getattr(phone, method)(f"/s/{code}", REMOTE_ADDR=new_address())
    text = assert_clean(response, {404, 405} if method in ("get", "head", "options") else {403, 404, 405})
    # Även en kod som ingen adress matchar (t.ex. en radbrytning) ger samma sida.
    if method == "get" and response.status_code == 404:
        assert "Länken gäller inte längre" in text


@FUZZ
@given(code=st.one_of(CODE, st.none()), answer=st.one_of(ANSWER, st.none()), opened=st.booleans())
def test_post_without_csrf_gets_the_swedish_csrf_page(
    phone: Client, campaign: Campaign, code: Any, answer: Any, opened: bool
) -> None:
    """POST utan token (även med en riktig kod): svenska CSRF-sidan (403), inget svar sparas."""
    code = code or campaign.recipients.first().code
    url = f"/s/{code}/oppnad" if opened else f"/s/{code}"
    data = {} if answer is None else {"svar": answer}
    response = phone.post(url, data, REMOTE_ADDR=new_address())
    text = assert_clean(response, {403, 404})  # 404: ingen sida har adressen (t.ex. radbrytning i den)
    assert "Formuläret har gått ut" in text or response.status_code == 404
    assert "SMS-portalen" not in text and "Till startsidan" not in text  # patientlayouten, inga personallänkar
    assert not campaign.recipients.exclude(answer="").exists()
    assert not campaign.recipients.filter(opened_at__isnull=False).exists()


@FUZZ
@given(code=st.one_of(CODE, st.none()), answer=st.one_of(ANSWER, st.none()), opened=st.booleans())
def test_post_with_token_never_fails_with_500(
    phone: Client, campaign: Campaign, code: Any, answer: Any, opened: bool
) -> None:
    """Med giltig token: svaret sparas eller sidan visas igen (302), okänd kod 404, /oppnad 204."""
    address = new_address()
    real = campaign.recipients.order_by("?").first().code
    code = code or real
    token = csrf_token(phone, f"/s/{real}", address)
    url = f"/s/{code}/oppnad" if opened else f"/s/{code}"
    data = {"csrfmiddlewaretoken": token} | ({} if answer is None else {"svar": answer})
    response = phone.post(url, data, REMOTE_ADDR=address)
    assert_clean(response, {204, 302, 404})
    if response.status_code == 302:
        assert_clean(phone.get(response["Location"], REMOTE_ADDR=address), {200, 404})


def test_rate_limit_page_is_swedish(phone: Client) -> None:
    """Kontroll av att adresserna ovan behövs: 61 anrop från en adress ger den svenska gränssidan."""
    address = f"10.255.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # ny även mot en delad Redis
    # Gränsen räknas per klockminut: klockan står still, så att anropen inte delas av ett minutskifte.
    with time_machine.travel(timezone.now(), tick=False):
        statuses = [phone.get("/s/okand", REMOTE_ADDR=address).status_code for _ in range(61)]
        last = phone.get("/s/okand", REMOTE_ADDR=address)
    assert statuses[-1] == 429 and set(statuses[:60]) == {404}
    assert "För många" in assert_clean(last, {429})
