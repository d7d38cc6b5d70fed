"""Mätning: tid från patientens POST (JA/NEJ) till att personalens websocket får ögonblicksbilden.

Startar daphne på 127.0.0.1 med en engångsdatabas (SQLite i en tillfällig mapp), skapar en
kampanj och en inloggad personalsession direkt i databasen, öppnar personalens websocket
och skickar minst 200 svar (JA och NEJ om vartannat per patient, så att varje svar är en
ändring). Mäts med kanal-lagret i minnet och, om Redis svarar, med Redis. Reserven
(LIVE_POLL_SECONDS) sätts högt, så att det är händelserna som mäts. Skriver median och
95:e percentil per lager i en tabell. Körs inte av `make test`.

    .venv/bin/python bench/push_latency.py [--answers 200] [--redis-url redis://127.0.0.1:6379/0]

Patientsidornas gräns per IP-adress (60/min) gäller: varje svar får en egen påhittad
klientadress via X-Forwarded-For (TRUSTED_PROXY_COUNT=1), som patienter på olika telefoner.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PATIENTS = 20
# Längsta väntan på en ögonblicksbild per svar, och på hela körningen per lager.
ANSWER_TIMEOUT = 5.0
RUN_TIMEOUT = 180.0


def free_port() -> int:
    """En ledig TCP-port på 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def redis_reachable(url: str) -> bool:
    """Sant om Redis på adressen svarar på PING (inom en sekund)."""
    try:
        import redis

        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except Exception:  # noqa: BLE001 – ingen Redis betyder bara att den mätningen hoppas över
        return False


def environment(db_path: Path, port: int, redis_url: str) -> dict[str, str]:
    """Miljön för daphne och för den här processen: testnycklar, engångsdatabas, valt kanal-lager."""
    env = {
        **os.environ,
        "ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": "bench-nyckel-" + "0123456789abcdef" * 4,
        "PHONE_HASH_KEY": "bench-nummerhash-" + "fedcba9876543210" * 4,
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "Bench-Admin-Lösenord-42!",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        "COOKIE_SECURE": "false",
        "BEHIND_TLS_PROXY": "false",
        "TRUSTED_PROXY_COUNT": "1",
        "SMS_PROVIDERS": "locmem",
        "DATABASE_URL": f"sqlite:///{db_path}",
        "REDIS_URL": redis_url,
        "LIVE_POLL_SECONDS": "600",
        "LOG_LEVEL": "WARNING",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }
    return env


def prepare_database(env: dict[str, str]) -> tuple[int, list[tuple[int, str]], str]:
    """Migrerar engångsdatabasen och skapar personal, session och kampanj (utan sändjobb).

    Returnerar (kampanjens id, [(mottagarens id, svarskod)], sessionsnyckeln).
    """
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from datetime import timedelta

    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from campaigns.models import Campaign, Recipient

    call_command("migrate", verbosity=0, interactive=False)
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


def start_daphne(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """Startar daphne och väntar tills porten svarar (högst 30 s)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("daphne avslutades direkt:\n" + (process.stderr.read() or b"").decode(errors="replace"))
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("daphne startade inte inom 30 sekunder")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stoppar den daphne-process som mätningen startade."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


async def measure(port: int, session_key: str, campaign_id: int, recipients: list[tuple[int, str]], answers: int) -> list[float]:
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
                    headers={"Cookie": f"csrftoken={csrf}", "X-Forwarded-For": f"10.{i // 65536}.{i // 256 % 256}.{i % 256}"},
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


def percentile(values: list[float], share: float) -> float:
    """Percentil enligt närmaste rang (share 0.95 = 95:e percentilen)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def main() -> int:
    """Kör mätningen för varje tillgängligt kanal-lager och skriver tabellen."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--answers", type=int, default=200, help="antal svar per lager (minst 200 för rapporten)")
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    results: list[tuple[str, list[float] | None, int]] = []
    with tempfile.TemporaryDirectory(prefix="push-latency-") as tmp:
        db_path = Path(tmp) / "bench.sqlite3"
        port = free_port()
        campaign_id, recipients, session_key = prepare_database(environment(db_path, port, ""))
        layers = [("minne", "")]
        if redis_reachable(args.redis_url):
            layers.append(("Redis", args.redis_url))
        else:
            results.append(("Redis", None, args.answers))
        for label, redis_url in layers:
            reset_answers(campaign_id)
            print(f"Mäter med kanal-lagret i {label.lower() if label == 'minne' else label} ({args.answers} svar) ...")
            daphne = start_daphne(environment(db_path, port, redis_url), port)
            try:
                latencies = asyncio.run(measure(port, session_key, campaign_id, recipients, args.answers))
            finally:
                stop(daphne)
            results.append((label, latencies, args.answers))

    print()
    print(f"{'kanal-lager':<12} {'svar':>9} {'median (ms)':>12} {'p95 (ms)':>10} {'max (ms)':>10}")
    for label, latencies, wanted in results:
        if latencies is None:
            print(f"{label:<12} {'–':>9} {'Redis svarar inte: hoppades över':>34}")
        elif not latencies:
            print(f"{label:<12} {f'0/{wanted}':>9} {'inga mätvärden':>34}")
        else:
            print(
                f"{label:<12} {f'{len(latencies)}/{wanted}':>9} {statistics.median(latencies) * 1000:>12.1f} "
                f"{percentile(latencies, 0.95) * 1000:>10.1f} {max(latencies) * 1000:>10.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
