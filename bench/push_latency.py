"""Mätning: tid från patientens POST (JA/NEJ) till att personalens websocket får ögonblicksbilden.

Startar daphne på 127.0.0.1 med en engångsdatabas (SQLite i en tillfällig mapp), skapar en
kampanj och en inloggad personalsession direkt i databasen, öppnar personalens websocket
och skickar minst 200 svar (JA och NEJ om vartannat per patient, så att varje svar är en
ändring). Mäts med kanal-lagret i minnet och med Redis (svarar Redis inte blir mätningen
FEL, om den inte hoppas över med `--skip-redis`). Reserven
(LIVE_POLL_SECONDS) sätts högt, så att det är händelserna som mäts. Skriver median och
95:e percentil per lager i en tabell. Körs inte av `make test`.

    .venv/bin/python bench/push_latency.py [--answers 200] [--redis-url redis://127.0.0.1:6379/0] [--skip-redis]

Patientsidornas gräns per IP-adress (60/min) gäller: varje svar får en egen påhittad
klientadress via X-Forwarded-For (TRUSTED_PROXY_COUNT=1), som patienter på olika telefoner.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402 – projektroten måste ligga i sys.path först
    WITHOUT_SECOND_FACTOR,
    environment,
    free_port,
    percentile,
    print_table,
    redis_reachable,
    setup_django,
    start_daphne,
    stop,
)

PATIENTS = 20
# Längsta väntan på en ögonblicksbild per svar, och på hela körningen per lager.
ANSWER_TIMEOUT = 5.0
RUN_TIMEOUT = 180.0


def layer_environment(db_path: Path, port: int, static_root: Path, redis_url: str) -> dict[str, str]:
    """Miljön för en mätning: SQLite-filen, valt kanal-lager och en reserv som inte hinner slå till."""
    return environment(
        f"sqlite:///{db_path}", port, static_root, redis_url, BENCH_LIVE_POLL_SECONDS="600", **WITHOUT_SECOND_FACTOR
    )


def prepare_database(env: dict[str, str]) -> tuple[int, list[tuple[int, str]], str]:
    """Migrerar engångsdatabasen och skapar personal, session och kampanj (utan sändjobb).

    Returnerar (kampanjens id, [(mottagarens id, svarskod)], sessionsnyckeln).
    """
    setup_django(env)
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.utils import timezone

    from campaigns.models import Campaign, Recipient

    user = get_user_model().objects.create_user(username="bench", password=secrets.token_urlsafe(16))
    client = Client()
    client.force_login(user)
    campaign = Campaign.objects.create(slot_at=timezone.now() + timedelta(days=1), created_by=user)
    Recipient.objects.bulk_create(
        Recipient(
            campaign=campaign,
            name=f"Patient {i}",
            phone_hash=f"bench-{i}",
            phone_masked="070-000 ****",
            send_status=Recipient.SendStatus.SENT,
        )
        for i in range(PATIENTS)
    )
    recipients = list(campaign.recipients.values_list("pk", "code"))
    return campaign.pk, recipients, client.cookies[settings.SESSION_COOKIE_NAME].value


def reset_answers(campaign_id: int) -> None:
    """Nollställer svaren före nästa lager (samma kampanj mäts igen)."""
    from campaigns.models import Recipient

    Recipient.objects.filter(campaign_id=campaign_id).update(answer="", answered_at=None, yes_rank=None)


async def measure(
    port: int, session_key: str, campaign_id: int, recipients: list[tuple[int, str]], answers: int
) -> list[float]:
    """Skickar svaren ett i taget och mäter POST → ögonblicksbild med svaret, i sekunder."""
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    csrf = secrets.token_hex(16)  # 32 tecken: Django godtar den omaskerade hemligheten
    latencies: list[float] = []
    async with aiohttp.ClientSession() as http:
        socket_ = await http.ws_connect(
            f"ws://127.0.0.1:{port}/ws/campaigns/{campaign_id}/",
            origin=base,
            headers={"Cookie": f"sessionid={session_key}"},
        )
        first = await socket_.receive_json(timeout=ANSWER_TIMEOUT)
        assert first["type"] == "snapshot", first
        deadline = time.monotonic() + RUN_TIMEOUT
        for i in range(answers):
            if time.monotonic() > deadline:
                print(f"  avbröt efter {i} svar (tidsgränsen {RUN_TIMEOUT:.0f} s)")
                break
            recipient_id, code = recipients[i % len(recipients)]
            choice = "ja" if (i // len(recipients)) % 2 == 0 else "nej"
            expected = "yes" if choice == "ja" else "no"
            started = time.perf_counter()
            post = asyncio.create_task(
                http.post(
                    f"{base}/s/{code}",
                    data={"svar": choice, "csrfmiddlewaretoken": csrf},
                    headers={
                        "Cookie": f"csrftoken={csrf}",
                        "X-Forwarded-For": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}",
                    },
                    allow_redirects=False,
                )
            )
            try:
                while True:
                    message = await socket_.receive_json(timeout=ANSWER_TIMEOUT)
                    rows = {row["id"]: row for row in message.get("data", {}).get("rows", [])}
                    if message["type"] == "snapshot" and rows.get(recipient_id, {}).get("answer") == expected:
                        latencies.append(time.perf_counter() - started)
                        break
            except asyncio.TimeoutError:
                print(f"  svar {i}: ingen ögonblicksbild inom {ANSWER_TIMEOUT:.0f} s")
            response = await post
            if response.status != 302:
                print(f"  svar {i}: oväntat svar {response.status}")
            response.release()
        await socket_.close()
    return latencies


def main() -> int:
    """Kör mätningen för varje tillgängligt kanal-lager och skriver tabellen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200, help="antal svar per lager (minst 200 för rapporten)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    parser.add_argument("--skip-redis", action="store_true", help="mät bara kanal-lagret i minnet")
    args = parser.parse_args()
    if args.answers < 1:
        parser.error("--answers måste vara minst 1")
    if args.answers < 200:
        print(f"Obs: {args.answers} svar är en provkörning; rapportens siffror bygger på minst 200.")

    results: list[tuple[str, list[float] | None, int]] = []
    with tempfile.TemporaryDirectory(prefix="push-latency-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        port = free_port()
        static_root = Path(tmp) / "static"
        campaign_id, recipients, session_key = prepare_database(layer_environment(db_path, port, static_root, ""))
        layers = [("minne", "")]
        if args.skip_redis:
            pass
        elif redis_reachable(args.redis_url):
            layers.append(("Redis", args.redis_url))
        else:
            results.append(("Redis", None, args.answers))
        for label, redis_url in layers:
            reset_answers(campaign_id)
            print(f"Mäter med kanal-lagret i {label.lower() if label == 'minne' else label} ({args.answers} svar) ...")
            daphne = start_daphne(layer_environment(db_path, port, static_root, redis_url), port)
            try:
                latencies = asyncio.run(measure(port, session_key, campaign_id, recipients, args.answers))
            finally:
                stop(daphne)
            results.append((label, latencies, args.answers))

    rows: list[list[str]] = []
    all_ok = True
    for label, latencies, wanted in results:
        all_ok = all_ok and latencies is not None and len(latencies) == wanted
        if latencies is None:
            rows.append([label, "–", "–", "–", f"Redis svarar inte på {args.redis_url} (eller --skip-redis)"])
        elif not latencies:
            rows.append([label, f"0/{wanted}", "–", "–", "inga mätvärden"])
        else:
            rows.append(
                [
                    label,
                    f"{len(latencies)}/{wanted}",
                    f"{statistics.median(latencies) * 1000:.1f}",
                    f"{percentile(latencies, 0.95) * 1000:.1f}",
                    f"{max(latencies) * 1000:.1f}",
                ]
            )
    print_table(["kanal-lager", "svar", "median (ms)", "p95 (ms)", "max (ms)"], rows)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
