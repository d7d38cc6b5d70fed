"""django-q2:s arbetsprocesser dödas (SIGKILL) mitt i en kampanjs utskick och startas om.

Ett riktigt `manage.py qcluster` i en egen processgrupp, mot en egen SQLite-fil, med
46elks-backenden (riktiga HTTP-anrop) mot en långsam låtsas-46elks (0,3 s per SMS) som
räknar SMS per nummer. Kön är django-q2:s ORM-kö (inbäddat läge) eller en egen,
tillfällig redis-server (som i drift med `REDIS_URL`). Efter omstarten ska varje mottagare
ha fått högst ett SMS, ingen stå kvar i kö, och de som var mitt i sändningen när processen
dog visas som "osäkert" för personalen.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis

from tests.e2e.test_campaign_live_browser import BASE_DIR, free_port, run_manage, server_env
from tests.fakes.elks46_server import API_PASSWORD, API_USERNAME, FakeElks46

RECIPIENTS = 20
KILL_AFTER_SENDS = 5
PATIENTS = [(f"Patient {i}", f"+467012345{i:02d}", i % 2 == 0) for i in range(RECIPIENTS)]

SEED = f"""
from django.contrib.auth import get_user_model
from tests.campaigns.factories import make_campaign
user = get_user_model().objects.create_user(username="anna", password="Personal-Lösenord-2026!")
campaign = make_campaign(user, {PATIENTS!r})
print("CAMPAIGN=%d" % campaign.pk)
"""

# Vad personalen ser (kampanjens ögonblicksbild, som sidan och pollingen visar) en minut senare.
SHOWN = """
import json
from datetime import timedelta
import time_machine
from django.utils import timezone
from campaigns.dashboard import snapshot
from campaigns.models import Campaign
with time_machine.travel(timezone.now() + timedelta(seconds=61)):
    data = snapshot(Campaign.objects.get())
print("SHOWN=" + json.dumps({row["name"]: row["send_status"] for row in data["rows"]}))
"""


@pytest.fixture
def slow_provider() -> Iterator[FakeElks46]:
    """En låtsas-46elks som svarar efter 0,3 s per SMS."""
    server = FakeElks46().start()
    server.delay = 0.3
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """En egen redis-server på en ledig port (delar ingenting med andra tester); ger dess REDIS_URL."""
    port = free_port()
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    wait_for(lambda: _pings(url), 10, "redis-server startade inte")
    yield url
    process.terminate()
    process.wait(timeout=10)


def _pings(url: str) -> bool:
    """Sant när redis-servern svarar."""
    try:
        return bool(redis.from_url(url).ping())
    except redis.ConnectionError:
        return False


def wait_for(condition: Callable[[], bool], timeout: float, message: str) -> None:
    """Väntar tills villkoret är sant (annars testfel med meddelandet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(message)


def start_cluster(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Startar `manage.py qcluster` i en egen processgrupp (så att hela klustret kan dödas på en gång)."""
    with log.open("ab") as output:
        return subprocess.Popen(
            [sys.executable, "manage.py", "qcluster"],
            cwd=BASE_DIR,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def kill_cluster(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL till klustrets hela processgrupp (huvudprocess, vakt, arbetsprocesser) och väntar."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    process.wait(timeout=20)


def statuses(database: Path) -> list[tuple[str, str, str | None, str]]:
    """Mottagarnas (namn, sändstatus, sändning påbörjad, krypterat nummer) direkt ur SQLite-filen."""
    with sqlite3.connect(database, timeout=20) as db:
        return db.execute(
            "SELECT name, send_status, send_started_at, phone_encrypted FROM campaigns_recipient ORDER BY id"
        ).fetchall()


def sms_per_number(provider: FakeElks46) -> Counter[str]:
    """Hur många SMS låtsas-46elks tog emot per nummer."""
    return Counter(r.form_fields()["to"] for r in list(provider.requests) if r.path == "/a1/sms")


def prepared_environment(
    database: Path, provider: FakeElks46, request: pytest.FixtureRequest, queue: str
) -> dict[str, str]:
    """Miljön för klustret (46elks mot låtsasleverantören, ORM- eller Redis-kö) och en migrerad
    databas med en kampanj på RECIPIENTS mottagare vars sändjobb ligger i kön."""
    env = server_env(database, "http://testserver")
    env.update(
        SMS_PROVIDERS="elks46",
        ELKS46_BASE_URL=provider.base_url,
        ELKS46_API_USERNAME=API_USERNAME,
        ELKS46_API_PASSWORD=API_PASSWORD,
        SMS_WEBHOOK_TOKEN="webhook-token-for-felproven",
        SMS_TIMEOUT_SECONDS="5",
        Q_WORKERS="2",
    )
    env.pop("REDIS_URL", None)
    if queue == "redis":
        env["REDIS_URL"] = request.getfixturevalue("own_redis")
    run_manage(env, "migrate", "--noinput", "-v", "0")
    run_manage(env, "shell", "-c", SEED)
    return env


def worker_pids(log: Path) -> list[int]:
    """Arbetsprocessernas pid ur klustrets logg ("… ready for work at <pid>")."""
    return [int(pid) for pid in re.findall(r"ready for work at (\d+)", log.read_text(errors="replace"))]


@pytest.mark.parametrize("queue", ["orm", "redis"])
def test_killed_cluster_restarted_sends_each_number_at_most_once_and_loses_nobody(
    tmp_path: Path, slow_provider: FakeElks46, request: pytest.FixtureRequest, queue: str
) -> None:
    """SIGKILL mitt i utskicket, omstart: ingen får två SMS, ingen blir kvar i kö, avbrutna visas som osäkra."""
    database = tmp_path / "kluster.sqlite3"
    env = prepared_environment(database, slow_provider, request, queue)
    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: sum(sms_per_number(slow_provider).values()) >= KILL_AFTER_SENDS, 60, "inget skickades")
    finally:
        kill_cluster(cluster)
    killed_at = time.time()
    at_kill = sum(sms_per_number(slow_provider).values())
    before_restart = statuses(database)
    assert at_kill < RECIPIENTS, "utskicket hann bli klart före SIGKILL; testet prövar då ingenting"
    assert any(status == "queued" for _, status, _, _ in before_restart)

    cluster = start_cluster(env, log)
    try:
        wait_for(
            lambda: _only_orphans_left(statuses(database), killed_at),
            30,  # omköningen varje minut skulle också ta dem, men starten ska räcka
            "mottagare blev kvar i kö efter omstarten:\n" + log.read_text(errors="replace")[-3000:],
        )
        time.sleep(1.0)  # dubbla jobb som fortfarande ligger i kön hinner köras (och får inte skicka)
    finally:
        kill_cluster(cluster)
    check_outcome(env, database, slow_provider, at_kill)


@pytest.mark.parametrize("queue", ["orm", "redis"])
def test_one_killed_worker_is_replaced_and_the_dispatch_completes(
    tmp_path: Path, slow_provider: FakeElks46, request: pytest.FixtureRequest, queue: str
) -> None:
    """En enda arbetsprocess dör mitt i (SIGKILL): django-q2 startar en ny, utskicket blir klart utan dubbletter."""
    database = tmp_path / "kluster.sqlite3"
    env = prepared_environment(database, slow_provider, request, queue)
    log = tmp_path / "qcluster.log"
    cluster = start_cluster(env, log)
    try:
        wait_for(lambda: sum(sms_per_number(slow_provider).values()) >= KILL_AFTER_SENDS, 60, "inget skickades")
        os.kill(worker_pids(log)[0], signal.SIGKILL)
        killed_at = time.time()
        at_kill = sum(sms_per_number(slow_provider).values())
        assert at_kill < RECIPIENTS, "utskicket hann bli klart före SIGKILL; testet prövar då ingenting"
        wait_for(lambda: "reincarnated worker" in log.read_text(errors="replace"), 20, "ingen ny arbetsprocess")
        wait_for(
            lambda: _only_orphans_left(statuses(database), killed_at),
            60,
            "mottagare blev kvar i kö:\n" + log.read_text(errors="replace")[-3000:],
        )
        time.sleep(1.0)  # dubbla jobb hinner köras (och får inte skicka)
    finally:
        kill_cluster(cluster)
    check_outcome(env, database, slow_provider, at_kill)


def check_outcome(env: dict[str, str], database: Path, provider: FakeElks46, at_kill: int) -> None:
    """Högst ett SMS per nummer, alla skickade utom de som dödades mitt i, och personalen ser dem som osäkra."""
    per_number = sms_per_number(provider)
    assert max(per_number.values()) == 1, f"SMS två gånger: {[n for n, c in per_number.items() if c > 1]}"
    final = statuses(database)
    by_status = Counter(status for _, status, _, _ in final)
    assert set(by_status) <= {"sent", "sending"}, by_status
    assert by_status["sending"] <= 2  # högst en per dödad arbetsprocess
    assert by_status["sent"] >= RECIPIENTS - 2 and by_status["sent"] > at_kill
    for name, status, _, encrypted in final:
        if status == "sent":
            assert encrypted == "", f"{name}: numret ligger kvar efter sändningen"
    shown = json.loads(run_manage(env, "shell", "-c", SHOWN).split("SHOWN=", 1)[1])
    for name, status, _, _ in final:
        assert shown[name] == ("skickat" if status == "sent" else "osäkert"), (name, shown[name])


def _only_orphans_left(rows: list[tuple[str, str, str | None, str]], killed_at: float) -> bool:
    """Sant när inga står i kö och varje `sending` påbörjades före SIGKILL (de dödades mitt i)."""
    if any(status == "queued" for _, status, _, _ in rows):
        return False
    for _, status, started, _ in rows:
        # Django sparar tiden i UTC utan tidszon i SQLite.
        if status == "sending" and datetime.fromisoformat(started).replace(tzinfo=UTC).timestamp() >= killed_at:
            return False
    return True
