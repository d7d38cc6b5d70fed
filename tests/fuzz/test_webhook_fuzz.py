"""Egenskapstester för leveransrapporternas webhooks: Sinch, Twilio och 46elks.

Slumpade JSON- och formulärkroppar, fel innehållstyper, ogiltig UTF-8, djupt nästlad JSON
och enorma tal, med giltig och ogiltig autentisering. Svaret är alltid 2xx eller 4xx, och
bara en autentiserad rapport om ett SMS som portalen känner till får spara en status.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.test import Client
from hypothesis import given
from hypothesis import strategies as st

from smsportal.backends.sinch import RECIPIENT_REPORT, SUMMARY_REPORT
from smsportal.delivery import DeliveryStatus
from tests.fakes.sinch_server import FakeSinch
from tests.fuzz.checks import FUZZ, TEXT, assert_clean
from tests.fuzz.webhook_requests import KNOWN, SLUGS, post_report, signature_checked
from tests.smsportal.ledger_helpers import reported

STATUS = st.one_of(
    st.sampled_from(["delivered", "Delivered", " failed ", "undelivered", "read", "Aborted", "sent", "queued"]), TEXT
)
MESSAGE_ID = st.one_of(st.just(KNOWN), TEXT, st.integers(), st.none(), st.just(KNOWN + "\x00"), st.just("A" * 100))
JSON_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXT,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=20,
)
SINCH_REPORT = st.fixed_dictionaries(
    {
        "type": st.one_of(st.sampled_from([RECIPIENT_REPORT, SUMMARY_REPORT]), TEXT),
        "batch_id": MESSAGE_ID,
        "status": STATUS,
        "statuses": st.lists(
            st.fixed_dictionaries({"status": STATUS, "count": st.one_of(st.integers(), TEXT, st.none())}), max_size=3
        ),
    }
)
FORM = st.dictionaries(
    st.one_of(st.sampled_from(["MessageSid", "MessageStatus", "id", "status", "delivered"]), TEXT),
    st.one_of(st.just(KNOWN), STATUS),
    max_size=5,
)
#: Kroppar som leverantörerna aldrig skickar: nästlad JSON, enorma tal, ogiltig UTF-8 (alla under 256 KiB).
ODD_BODY = st.one_of(
    st.integers(min_value=100, max_value=100_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=100, max_value=40_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(min_value=4000, max_value=100_000).map(lambda digits: b'{"batch_id": 1' + b"0" * digits + b"}"),
    st.sampled_from(
        [b"1e999999", b"NaN", b"-Infinity", b'{"status": 1e999}', b"\xef\xbb\xbf{}", b"\xff\xfe{\x00}\x00"]
    ),
    st.binary(max_size=500),
)
BODY = st.one_of(
    JSON_VALUE.map(lambda value: json.dumps(value).encode()),
    SINCH_REPORT.map(lambda value: json.dumps(value).encode()),
    FORM.map(lambda form: urlencode(form).encode()),
    ODD_BODY,
)
CONTENT_TYPE = st.sampled_from(
    [
        "application/json",
        "application/x-www-form-urlencoded",
        "application/x-www-form-urlencoded; charset=bogus-charset",
        "application/x-www-form-urlencoded; charset=utf-16",
        "application/json; charset=latin-1",
        "multipart/form-data",
        "multipart/form-data; boundary=fuzz",
        "text/plain",
        "",
    ]
)


@FUZZ
@given(
    provider=st.sampled_from(list(SLUGS)),
    body=BODY,
    content_type=CONTENT_TYPE,
    authentic=st.booleans(),
    signed=st.booleans(),
)
def test_webhooks_never_fail_with_500(
    client: Client, providers: None, provider: str, body: bytes, content_type: str, authentic: bool, signed: bool
) -> None:
    """2xx eller 4xx för varje kropp; ogiltig autentisering ändrar inget; bara kända SMS får status."""
    before = set(reported().values_list("provider", "provider_message_id", "delivery_status"))
    response = post_report(client, provider, body, content_type, authentic=authentic, signed=signed)
    assert_clean(response, {200, 400, 403, 413})
    after = set(reported().values_list("provider", "provider_message_id", "delivery_status"))
    if not authentic:
        assert response.status_code != 200 and after == before
    elif not signature_checked(provider, signed):
        assert response.status_code == 200
    assert {(p, m) for p, m, _ in after} <= {(p, KNOWN) for p in SLUGS}
    assert {s for _, _, s in after} <= set(DeliveryStatus.values)


@FUZZ
@given(provider=st.sampled_from(list(SLUGS)), body=ODD_BODY, content_type=CONTENT_TYPE, signed=st.booleans())
def test_odd_bodies_with_valid_auth(
    client: Client, providers: None, provider: str, body: bytes, content_type: str, signed: bool
) -> None:
    """Nästlad JSON, enorma tal och ogiltig UTF-8 med rätt token/signatur: 200 och ingen status."""
    response = post_report(client, provider, body, content_type, signed=signed)
    assert_clean(response, {200, 403} if signature_checked(provider, signed) else {200})
    assert not reported().exists()


def test_known_message_is_recorded(client: Client, providers: None) -> None:
    """Kontroll av testet ovan: en riktig rapport om det kända SMS:et sparas för varje leverantör."""
    reports = {
        "sinch": (json.dumps(FakeSinch.recipient_report(KNOWN, status="Delivered")).encode(), "application/json"),
        "twilio": (
            urlencode({"MessageSid": KNOWN, "MessageStatus": "delivered"}).encode(),
            "application/x-www-form-urlencoded",
        ),
        "elks46": (urlencode({"id": KNOWN, "status": "delivered"}).encode(), "application/x-www-form-urlencoded"),
    }
    for provider, (body, content_type) in reports.items():
        assert_clean(post_report(client, provider, body, content_type), {200})
    assert reported().filter(provider_message_id=KNOWN, delivery_status=DeliveryStatus.DELIVERED).count() == 3
