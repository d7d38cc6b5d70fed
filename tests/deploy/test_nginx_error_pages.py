"""nginx egna felsvar på svenska: den levererade siten när ingen daphne svarar, vid en för stor kropp
och vid en trasig begäran (här ett huvud med NUL-tecken).

nginx startas med siten deploy/nginx/smsportal.conf (som i tests/deploy/stack.py) men utan några
daphne-processer bakom: det som en patient ser när portalen startas om. Behöver bara nginx (som
`make test` installerar), ingen databas.
"""

from __future__ import annotations

import socket
import ssl
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.deploy.stack import NGINX, Stack, free_ports, http_status, insecure_tls, launch_nginx

pytestmark = pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx saknas (make test installerar det)")

#: Det nginx egen engelska felsida innehåller; får aldrig nå en patient.
ENGLISH = (b"Bad Gateway", b"Service Temporarily Unavailable", b"Request Entity Too Large", b"Bad Request", b"nginx")


@pytest.fixture(scope="module")
def portal_down(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """nginx med siten framför två portar där ingen daphne lyssnar."""
    folder = tmp_path_factory.mktemp("nginx-utan-portal")
    for path in (folder / "logs", folder / "temp"):
        path.mkdir(parents=True)
    https_port, http_port, *web_ports = free_ports(4)
    stack = Stack(
        folder=folder,
        base_url=f"https://127.0.0.1:{https_port}",
        http_url=f"http://127.0.0.1:{http_port}",
        web_ports=web_ports,
        env={},
        access_log=folder / "logs" / "access.log",
        error_log=folder / "logs" / "error.log",
    )
    process = stack.nginx = launch_nginx(stack)
    deadline = time.monotonic() + 30
    while http_status(stack.base_url + "/") == 0:
        assert process.popen.poll() is None and time.monotonic() < deadline, process.output()
        time.sleep(0.1)
    yield stack
    process.stop()


def raw(stack: Stack, request: bytes) -> tuple[int, bytes, bytes]:
    """Skickar en rå HTTP-begäran över TLS; (status, huvuden, kropp)."""
    port = int(stack.base_url.rsplit(":", 1)[1])
    context: ssl.SSLContext = insecure_tls()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as plain:
        with context.wrap_socket(plain) as tls:
            tls.sendall(request)
            response = b""
            while chunk := tls.recv(65536):
                response += chunk
    head, _, body = response.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), head, body


def assert_swedish_page(body: bytes, title: str) -> None:
    """Klinikens svenska sida med rubriken, utan nginx engelska text."""
    text = body.decode()
    assert '<html lang="sv">' in text and title in text and "Södermalms Ortopedi" in text
    for english in ENGLISH:
        assert english not in body, english


@pytest.mark.parametrize("path", ["/s/PatientKod1234567", "/", "/personal/akut-sms/"])
def test_portal_restarting_gives_the_swedish_page_with_retry_after(portal_down: Stack, path: str) -> None:
    """Ingen daphne svarar (omstart): 503 med Retry-After och den svenska sidan, aldrig "502 Bad Gateway"."""
    status, head, body = raw(
        portal_down, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
    )
    assert status == 503
    assert b"Retry-After: 30" in head and b"Cache-Control: no-store" in head
    assert b"Content-Type: text/html; charset=utf-8" in head
    assert_swedish_page(body, "Tekniskt fel – försök igen om en stund")
    assert "länken fortsätter att gälla" in body.decode()


def test_patient_answer_while_restarting_gets_the_same_page(portal_down: Stack) -> None:
    """Ett JA som skickas medan portalen startas om: samma sida, som säger åt patienten att se efter och svara igen."""
    form = b"svar=ja&csrfmiddlewaretoken=x"
    request = (
        b"POST /s/PatientKod1234567 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
        + str(len(form)).encode()
        + b"\r\n\r\n"
        + form
    )
    status, _, body = raw(portal_down, request)
    assert status == 503
    assert_swedish_page(body, "Tekniskt fel")
    assert "annars svara igen" in body.decode()


def test_body_over_one_mebibyte_gets_the_swedish_413(portal_down: Stack) -> None:
    """En kropp över nginx gräns (1 MiB) når aldrig portalen: svenska sidan "Det du skickade är för stort"."""
    request = (
        b"POST /personal/akut-sms/ny/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 2000000\r\n\r\n"
    )
    status, _, body = raw(portal_down, request)
    assert status == 413
    assert_swedish_page(body, "Det du skickade är för stort")


def test_header_with_nul_gets_the_swedish_400(portal_down: Stack) -> None:
    """nginx vägrar själv ett huvud med NUL-tecken (daphne gör det inte): svenska sidan "Felaktig begäran"."""
    status, _, body = raw(
        portal_down, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: a\x00b\r\nConnection: close\r\n\r\n"
    )
    assert status == 400
    assert_swedish_page(body, "Felaktig begäran")


@pytest.mark.parametrize(
    ("request_bytes", "status", "title"),
    [
        pytest.param(
            b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            414,
            "Adressen är för lång",
            id="adress-over-8-KiB",
        ),
        pytest.param(
            b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: a=" + b"b" * 9000 + b"\r\n",
            400,
            "Felaktig begäran",
            id="kaka-over-8-KiB",
        ),
        pytest.param(b"TRACE / HTTP/1.1\r\nHost: 127.0.0.1\r\n", 405, "Felaktig begäran", id="TRACE"),
    ],
)
def test_requests_nginx_refuses_itself_get_swedish_pages(
    portal_down: Stack, request_bytes: bytes, status: int, title: str
) -> None:
    """En för lång adress, ett för stort huvud (en kaka) och TRACE stoppas av nginx: svenska sidor, inte nginx engelska."""
    answer, _, body = raw(portal_down, request_bytes + b"Connection: close\r\n\r\n")
    assert answer == status
    assert_swedish_page(body, title)
