"""Mätning: sändsidans POST (envägs-SMS från en mall) och sidan den leder till, en i taget.

Kör portalen i samma process med Djangos testklient (hela middleware-kedjan, ingen
nätverksväg) mot en engångsdatabas (SQLite i en tillfällig mapp) och backenden locmem
(SMS_PROVIDERS=locmem: inget lämnar maskinen). En inloggad användare skickar standard
1 000 formulär som webbläsaren gör (mall, nummer, text och ett nytt engångs-id per
formulär) och följer omdirigeringen som webbläsaren (GET / med bekräftelsen: annars samlas
de olästa bekräftelserna i meddelandekakan och mätningen mäter kakan). Kvoten på 30 SMS per timme höjs för körningen; den räknas fortfarande ur
audit-loggen vid varje sändning, så tiden per SMS kan växa med antalet SMS den senaste
timmen – därför skrivs också första och sista tiondelen ut.

Skriver median, 99:e percentil, max och antal fel (inte 302 följt av sidan med bekräftelsen), och kontrollerar
att lika många SMS hamnade i utkorgen som svaren säger. Körs inte av `make test`.

    .venv/bin/python bench/send_page.py [--requests 1000]
    .venv/bin/python bench/send_page.py --requests 100      # snabb provkörning
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import environment, free_port, percentile, print_table, setup_django  # noqa: E402

PHONE = "070-123 45 67"
# Målet (ärende 17): medianen för sista tiondelen högst 1,2 × första tiondelens.
GOAL_RATIO = 1.2


def measure(requests: int) -> tuple[list[float], int, int]:
    """Skickar formulären ett i taget; returnerar (latenser för POST + GET, antal fel, SMS i utkorgen)."""
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from smsportal.backends import locmem
    from templates_app.models import MessageTemplate

    user = get_user_model().objects.create_user(username="bench", password=str(uuid.uuid4()))
    client = Client()
    client.force_login(user)
    # Inloggad med båda stegen, som personalen: sessionen bär kontots aktiverade app.
    device = TOTPDevice.objects.create(user=user, name="Autentiseringsapp", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    template = MessageTemplate.objects.filter(active=True).order_by("pk").first()
    if template is None:
        raise RuntimeError("Inga aktiva mallar i databasen (migreringen lägger in klinikens mallar).")
    client.get("/")  # första sidvisningen laddar mallar och moduler; den räknas inte
    locmem.outbox.clear()
    latencies: list[float] = []
    errors = 0
    for _ in range(requests):
        data = {"template": template.pk, "phone": PHONE, "body": template.body(), "request_id": str(uuid.uuid4())}
        started = time.perf_counter()
        response = client.post("/", data, follow=True)
        elapsed = time.perf_counter() - started
        redirected = [status for _, status in response.redirect_chain] == [302]
        if redirected and response.status_code == 200 and b"SMS skickat" in response.content:
            latencies.append(elapsed)
        else:
            errors += 1
    return latencies, errors, len(locmem.outbox)


def growth(latencies: list[float]) -> list[str]:
    """Kvoten median sista ÷ första tiondelen och om målet nåddes (sidan ska inte bli långsammare)."""
    tenth = max(1, len(latencies) // 10)
    if not latencies:
        return ["–", "–"]
    ratio = statistics.median(latencies[-tenth:]) / statistics.median(latencies[:tenth])
    return [f"{ratio:.2f}", "nått" if ratio <= GOAL_RATIO else "inte nått"]


def report(latencies: list[float], errors: int, sent: int, requests: int) -> bool:
    """Skriver tabellen; sant om utkorgen har ett SMS per lyckat svar och inga fel uppstod."""
    ok = errors == 0 and sent == len(latencies) == requests
    tenth = max(1, len(latencies) // 10)
    milliseconds = (
        [
            f"{statistics.median(latencies) * 1000:.1f}",
            f"{percentile(latencies, 0.99) * 1000:.1f}",
            f"{max(latencies) * 1000:.1f}",
            f"{statistics.median(latencies[:tenth]) * 1000:.1f}",
            f"{statistics.median(latencies[-tenth:]) * 1000:.1f}",
        ]
        if latencies
        else ["–"] * 5
    )
    print_table(
        [
            "begäranden",
            "median (ms)",
            "p99 (ms)",
            "max (ms)",
            "median första 10 % (ms)",
            "median sista 10 % (ms)",
            "sista ÷ första",
            f"mål ≤ {GOAL_RATIO:.1f}".replace(".", ","),
            "fel",
            "SMS i utkorgen",
            "kontroll",
        ],
        [[str(requests), *milliseconds, *growth(latencies), str(errors), str(sent), "OK" if ok else "FEL"]],
    )
    return ok


def main() -> int:
    """Sätter upp engångsdatabasen, skickar formulären och skriver tabellen."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="antal POST till sändsidan (standard 1000)")
    args = parser.parse_args()
    if args.requests < 1:
        parser.error("--requests måste vara minst 1")
    with tempfile.TemporaryDirectory(prefix="send-page-") as tmp:
        env = environment(
            f"sqlite:///{Path(tmp) / 'bench.sqlite3'}",
            free_port(),
            Path(tmp) / "static",
            SMS_PROVIDERS="locmem",
            SMS_RATE_LIMIT_PER_HOUR=str(args.requests + 10),
        )
        setup_django(env)
        print(f"Sändsidan: {args.requests} POST, en i taget (testklienten, SQLite, locmem) ...")
        latencies, errors, sent = measure(args.requests)
    return 0 if report(latencies, errors, sent, args.requests) else 1


if __name__ == "__main__":
    sys.exit(main())
