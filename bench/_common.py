"""Gemensamt för mätskripten i bench/: ledig port, miljö, daphne, engångsdatabaser och tabeller.

Filnamnet börjar med understreck, så `make bench` kör den inte som en egen mätning.
Skripten lägger projektroten först i sys.path och importerar `bench._common`.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
# Standardadressen till PostgreSQL på mätmaskinerna (databasen "postgres" finns alltid).
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"
# Inställningsmodul med portalens inställningar plus en minimal mätvy (bench/_settings.py).
BENCH_SETTINGS = "bench._settings"
# Mätningar som öppnar personalens websocket med en session från `force_login`: utan andra faktor
# (STAFF_MFA_REQUIRED är annars på när DEBUG är av, och websocketen vägras med 403). Den andra
# faktorn kontrolleras vid anslutningen och var 15:e sekund, lika dyrt med som utan den.
WITHOUT_SECOND_FACTOR = {"STAFF_MFA_REQUIRED": "false"}
# Debians chromium och dess flaggor, för mätningarna och webbläsartesterna (tests/e2e/conftest.py);
# Playwrights egen nedladdning fungerar inte här.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


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


def environment(
    database_url: str, port: int, static_root: Path, redis_url: str = "", **overrides: str
) -> dict[str, str]:
    """Miljön för portalens processer i en mätning: testnycklar, engångsdatabas, inga proxyer.

    Inställningarna är portalens egna plus mätvyn (bench/_settings.py); de statiska filerna
    samlas i `static_root` som i drift (manifest och komprimering). `overrides` ersätter eller
    lägger till variabler (t.ex. SMS_PROVIDERS, Q_WORKERS).
    """
    return {
        **os.environ,
        "ENV_FILE": "",
        "DEBUG": "false",
        "DJANGO_SETTINGS_MODULE": BENCH_SETTINGS,
        "BENCH_STATIC_ROOT": str(static_root),
        "SECRET_KEY": "bench-nyckel-" + "0123456789abcdef" * 4,
        # Fasta, slumpade nycklar bara för mätningarna (samma regel som i drift gäller vid start).
        "PHONE_HASH_KEY": "tTU-FWiRx0vcDnGYRVAfqsRzDHCxjquR01kWCYQ6hLm7k75L7LUIDsjuxtNnOE37",
        "PHONE_ENCRYPTION_KEYS": "AzZcGDgopFFLxgV99E2C4XK_9elP9JEvNcbeqYM5Qg0=",
        "ADMIN_USERNAME": "admin",
        "ADMIN_PASSWORD": "Bench-Admin-Lösenord-42!",
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "TRUSTED_PROXY_COUNT": "1",
        "SMS_PROVIDERS": "locmem",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "LOG_LEVEL": "WARNING",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **overrides,
    }


def fake_elks46_settings(base_url: str) -> dict[str, str]:
    """Miljön för den riktiga 46elks-backenden mot låtsas-46elks (tests/fakes/elks46_server.py) på `base_url`."""
    from tests.fakes.elks46_server import API_PASSWORD, API_USERNAME

    return {
        "SMS_PROVIDERS": "elks46",
        "ELKS46_API_USERNAME": API_USERNAME,
        "ELKS46_API_PASSWORD": API_PASSWORD,
        "ELKS46_BASE_URL": base_url,
        "SMS_WEBHOOK_TOKEN": "0osQdCuQxHR3r2wizWNIrUPFUTuralOh1uuMQbnWIzSY-ecdrRXhimwZrWtL0md-",
    }


def setup_django(env: dict[str, str]) -> None:
    """Sätter miljön i den här processen, startar Django, migrerar och samlar de statiska filerna."""
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)


@dataclass
class Service:
    """En process som mätningen startade, med dess felutskrifter i en tillfällig fil."""

    name: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def output(self, limit: int = 4000) -> str:
        """De sista `limit` tecknen som processen skrivit till stderr."""
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-limit:]


def start_process(name: str, args: list[str], env: dict[str, str], port: int | None = None) -> Service:
    """Startar processen `name` (argv `args`) i projektroten; med `port` väntas tills den svarar (30 s).

    Felutskrifterna hamnar i en tillfällig fil (en full pipe skulle få processen att stanna).
    """
    log = tempfile.TemporaryFile()
    service = Service(name, subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log), log)
    if port is None:
        return service
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            output = service.output()
            stop(service)
            raise RuntimeError(f"{name} avslutades direkt:\n{output}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return service
        except OSError:
            time.sleep(0.2)
    stop(service)
    raise RuntimeError(f"{name} startade inte inom 30 sekunder")


def start_daphne(env: dict[str, str], port: int) -> Service:
    """Startar daphne med portalens ASGI-app och väntar tills porten svarar."""
    return start_process(
        "daphne",
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "config.asgi:application"],
        env,
        port,
    )


def stop(service: Service) -> None:
    """Stoppar en process som mätningen själv startade (först snällt, sedan med kill)."""
    process = service.process
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    service.log.close()


@contextlib.contextmanager
def throwaway_postgres(admin_url: str = POSTGRES_ADMIN_URL) -> Iterator[str | None]:
    """En tom PostgreSQL-databas för en mätning, raderad efteråt; None om servern inte svarar."""
    import psycopg

    try:
        admin = psycopg.connect(admin_url, connect_timeout=2, autocommit=True)
    except psycopg.OperationalError:
        yield None
        return
    name = "bench_" + secrets.token_hex(6)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield admin_url.rsplit("/", 1)[0] + "/" + name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def percentile(values: list[float], share: float) -> float:
    """Percentil enligt närmaste rang (share 0.95 = 95:e percentilen)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def print_table(headers: list[str], rows: list[list[str]], left: int = 1) -> None:
    """Skriver en tabell: de `left` första kolumnerna vänsterjusterade, övriga högerjusterade."""
    widths = [max(len(str(row[i])) for row in [headers, *rows]) for i in range(len(headers))]

    def line(cells: list[str]) -> str:
        """En rad med kolumnerna utfyllda till sina bredder."""
        return "  ".join(
            f"{cell:<{width}}" if i < left else f"{cell:>{width}}" for i, (cell, width) in enumerate(zip(cells, widths))
        ).rstrip()

    print()
    print(line(headers))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(line([str(cell) for cell in row]))


def fake_elks46_on_port(port: int) -> Any:
    """Låtsas-46elks (tests/fakes) på en bestämd port, så att mätningen håller sig till sina egna portar."""
    from http.server import ThreadingHTTPServer

    from tests.fakes.elks46_server import FakeElks46

    fake = FakeElks46()
    handler = fake._server.RequestHandlerClass
    fake._server.server_close()
    fake._server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    fake._server.daemon_threads = True
    return fake
