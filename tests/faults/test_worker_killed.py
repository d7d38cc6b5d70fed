"""django-q2:s arbetsprocesser dödas (SIGKILL) mitt i en kampanjs utskick och startas om.

Ett riktigt `manage.py qcluster` i en egen processgrupp, mot en egen SQLite-fil, med
46elks-backenden (riktiga HTTP-anrop) mot en långsam låtsas-46elks (0,3 s per SMS) som
räknar SMS per nummer. Kön är django-q2:s ORM-kö (inbäddat läge) eller en egen,
tillfällig redis-server (som i drift med `REDIS_URL`). Efter omstarten ska varje mottagare
ha fått högst ett SMS, ingen stå kvar i kö, och de som var mitt i sändningen när processen
dog visas som "osäkert" för personalen.

Ingen får försvinna i tysthet: varje mottagare som står som skickad har exakt ett SMS hos
leverantören (samma meddelande-id, till just dess nummer), och leverantörens SMS går jämnt
upp mot de skickade plus de osäkra som faktiskt hann fram (se `check_outcome`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

# Vad personalen ser (kampanjens ögonblicksbild, som sidan och pollingen visar) en minut senare,
# och nummerhashen (HMAC med portalens nyckel, som i databasen) för varje testnummer.
SHOWN = f"""
import json
from datetime import timedelta
import time_machine
from django.utils import timezone
from campaigns.dashboard import snapshot
from campaigns.models import Campaign
from campaigns.phones import phone_hash
with time_machine.travel(timezone.now() + timedelta(seconds=61)):
    data = snapshot(Campaign.objects.get())
print("SHOWN=" + json.dumps({{row["name"]: row["send_status"] for row in data["rows"]}}))
print("HASHES=" + json.dumps({{number: phone_hash(number) for _, number, _ in {PATIENTS!r}}}))
"""

#: Sändstatus i databasen → det personalen ser. `sending` kvar efter en dödad process är osäkert.
SHOWN_FOR = {"sent": "skickat", "failed": "misslyckades", "uncertain": "osäkert", "sending": "osäkert"}


class CountingElks46(FakeElks46):
    """Låtsas-46elks som dessutom minns varje SMS den skapade: (nummer, meddelande-id).

    Ett SMS skapas när begäran tas emot, före fördröjningen: dödas arbetsprocessen medan den
    väntar på svaret har SMS:et ändå gått iväg (som hos en riktig leverantör).
    """

    def __init__(self) -> None:
        """Skapar servern med en tom lista över skapade SMS."""
        super().__init__()
        self.numbers_and_ids: list[tuple[str, str]] = []
        self._created_lock = threading.Lock()

    def _sms(self, form: dict[str, str]) -> dict[str, Any]:
        """Som 46elks, och noterar (nummer, id) för det skapade SMS:et."""
        sms = super()._sms(form)
        with self._created_lock:
            self.numbers_and_ids.append((sms["to"], sms["id"]))
        return sms


@pytest.fixture
def slow_provider() -> Iterator[CountingElks46]:
    """En låtsas-46elks som svarar efter 0,3 s per SMS och minns varje skapat SMS."""
    server = CountingElks46().start()
    server.delay = 0.3
    yield server
    server.stop()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[str]:
    """En egen redis-server på en ledig port (delar ingenting med andra tester); ger dess REDIS_URL."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
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


def final_rows(database: Path) -> list[dict[str, str]]:
    """Mottagarnas namn, sändstatus, leverantör, meddelande-id och nummerhash direkt ur SQLite-filen."""
    with sqlite3.connect(database, timeout=20) as db:
        db.row_factory = sqlite3.Row
        return [
            dict(row)
            for row in db.execute(
                "SELECT name, send_status, provider, provider_message_id, phone_hash"
                " FROM campaigns_recipient ORDER BY id"
            )
        ]


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
        SMS_WEBHOOK_TOKEN="YS-eYONFrz2MIBxtbSNINARJsVOgpMuSpx6YvjdDQ3SGNUWND4VbQqRP7e5iZUSE",  # slumpad, bara för felproven
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
    tmp_path: Path, slow_provider: CountingElks46, request: pytest.FixtureRequest, queue: str
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
    tmp_path: Path, slow_provider: CountingElks46, request: pytest.FixtureRequest, queue: str
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


def check_outcome(env: dict[str, str], database: Path, provider: CountingElks46, at_kill: int) -> None:
    """Högst ett SMS per nummer, alla skickade utom de som dödades mitt i, och personalen ser dem som osäkra.

    Inget SMS försvinner i tysthet, räknat mot leverantörens egen lista över skapade SMS:
    - varje mottagare är i ett slutläge som personalen ser: skickat, misslyckat eller osäkert;
    - skickad ⇒ exakt ett SMS hos leverantören, med radens meddelande-id och till radens nummer
      (numret finns bara hos leverantören; raden har HMAC-hashen, som jämförs);
    - misslyckad ⇒ inget SMS; osäker ⇒ noll eller ett (det kan ha hunnit fram), aldrig två;
    - varje SMS hos leverantören gick till en mottagare i kampanjen, så att
      antal SMS = antal skickade + antal osäkra vars nummer har ett SMS hos leverantören.
    """
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
    output = run_manage(env, "shell", "-c", SHOWN)
    shown = json.loads(output.split("SHOWN=", 1)[1].splitlines()[0])
    hashes = json.loads(output.split("HASHES=", 1)[1].splitlines()[0])
    check_every_sms_accounted_for(final_rows(database), provider.numbers_and_ids, hashes, shown)


def check_every_sms_accounted_for(
    rows: list[dict[str, str]], created: list[tuple[str, str]], hashes: dict[str, str], shown: dict[str, str]
) -> None:
    """Databasens mottagare och leverantörens skapade SMS går jämnt upp (se `check_outcome`)."""
    patient_number = {name: number for name, number, _ in PATIENTS}
    by_id = {message_id: number for number, message_id in created}
    assert len(by_id) == len(created), "leverantören gav samma meddelande-id två gånger"
    assert set(by_id.values()) <= set(hashes), "SMS till ett nummer utanför kampanjen"
    arrived_hashes = Counter(hashes[number] for number in by_id.values())

    arrived_uncertain = 0
    for row in rows:
        name, status = row["name"], row["send_status"]
        assert status in SHOWN_FOR, f"{name}: inte i ett slutläge ({status})"
        assert shown[name] == SHOWN_FOR[status], (name, status, shown[name])
        assert row["phone_hash"] == hashes[patient_number[name]], f"{name}: fel nummerhash"
        arrived = arrived_hashes[row["phone_hash"]]
        if status == "sent":
            assert row["provider"] == "elks46", (name, row["provider"])
            message_id = row["provider_message_id"]
            assert message_id in by_id, f"{name}: markerad skickad men leverantören har inget sådant SMS"
            assert hashes[by_id[message_id]] == row["phone_hash"], f"{name}: id:t hör till ett annat nummer"
            assert arrived == 1, f"{name}: skickad men {arrived} SMS hos leverantören"
        elif status == "failed":
            assert arrived == 0, f"{name}: misslyckad men SMS:et kom fram"
        else:
            assert arrived <= 1, f"{name}: osäker och {arrived} SMS"
            arrived_uncertain += arrived
    sent = sum(row["send_status"] == "sent" for row in rows)
    assert len(created) == sent + arrived_uncertain, (len(created), sent, arrived_uncertain)


def _only_orphans_left(rows: list[tuple[str, str, str | None, str]], killed_at: float) -> bool:
    """Sant när inga står i kö och varje `sending` påbörjades före SIGKILL (de dödades mitt i)."""
    if any(status == "queued" for _, status, _, _ in rows):
        return False
    for _, status, started, _ in rows:
        # Django sparar tiden i UTC utan tidszon i SQLite.
        if status == "sending" and datetime.fromisoformat(started).replace(tzinfo=UTC).timestamp() >= killed_at:
            return False
    return True


def test_the_accounting_catches_an_sms_lost_silently_or_sent_twice() -> None:
    """Kontrollen själv: en rad "skickad" utan SMS hos leverantören, ett främmande id, ett SMS till en
    misslyckad och två SMS till en osäker fälls alla; noll eller ett SMS till en osäker godtas."""
    (anna, anna_number, _), (karl, karl_number, _) = PATIENTS[:2]
    hashes = {number: f"hash-{number}" for _, number, _ in PATIENTS}

    def rows(anna_status: str, anna_id: str, karl_status: str) -> list[dict[str, str]]:
        """Två mottagare i databasen med givna lägen."""
        return [
            {
                "name": anna,
                "send_status": anna_status,
                "provider": "elks46",
                "provider_message_id": anna_id,
                "phone_hash": hashes[anna_number],
            },
            {
                "name": karl,
                "send_status": karl_status,
                "provider": "",
                "provider_message_id": "",
                "phone_hash": hashes[karl_number],
            },
        ]

    def shown(*statuses: str) -> dict[str, str]:
        """Det personalen ser för de två."""
        return {name: SHOWN_FOR[status] for name, status in zip((anna, karl), statuses)}

    sent = [(anna_number, "s1")]
    check_every_sms_accounted_for(rows("sent", "s1", "sending"), sent, hashes, shown("sent", "sending"))
    check_every_sms_accounted_for(
        rows("sent", "s1", "uncertain"), [*sent, (karl_number, "s2")], hashes, shown("sent", "uncertain")
    )
    broken = [
        (rows("sent", "s1", "sending"), [], "sent"),  # markerad skickad, aldrig framme
        (rows("sent", "s9", "sending"), sent, "sent"),  # id:t finns inte hos leverantören
        (rows("sent", "s1", "failed"), [*sent, (karl_number, "s2")], "failed"),
        (rows("sent", "s1", "sending"), [*sent, (karl_number, "s2"), (karl_number, "s3")], "sending"),
        (rows("sent", "s1", "queued"), sent, "sending"),  # kvar i kö: inget slutläge
    ]
    for broken_rows, created, karl_status in broken:
        with pytest.raises(AssertionError):
            check_every_sms_accounted_for(broken_rows, created, hashes, shown("sent", karl_status))
