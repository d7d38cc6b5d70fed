"""`manage.py runportal` (som `make run` slutar i): Ctrl-C stoppar varje process den startat,
och en upptagen port ger ett svenskt besked utan att något startas.

Portalen körs som en riktig process i en egen session mot en egen, nymigrerad SQLite-fil och
django-q2:s ORM-kö (ingen Redis: klustret får inte ta jobb från andra testers kö). Processerna
följs i /proc: barnen medan den kör, och efteråt varje process som bär testets egen
databasadress i sin miljö (också processer som hunnit byta förälder).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from accounts.management.commands.runportal import GRACE_SECONDS
from tests.e2e.test_campaign_live_browser import BASE_DIR, free_port, run_manage, server_env
from tests.faults.test_worker_killed import wait_for

# qcluster-processen, dess sentinel, två arbetare, monitor och pusher, samt daphne.
EXPECTED_PROCESSES = 7

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="processerna följs i /proc (Linux)")

Process = tuple[int, int]  # (pid, starttid i /proc): en pid som återanvänds är en annan process


def portal_env(database: Path, port: int) -> dict[str, str]:
    """Miljön för `make run`: testmiljön i utvecklingsläge, egen SQLite-fil, HOST och PORT, ingen Redis."""
    env = server_env(database, f"http://127.0.0.1:{port}")
    env.pop("REDIS_URL", None)
    env.update(DEBUG="true", HOST="127.0.0.1", PORT=str(port), Q_WORKERS="2")
    return env


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """En nymigrerad SQLite-fil (en gång per modul; varje test får en egen kopia)."""
    database = tmp_path_factory.mktemp("runportal") / "mall.sqlite3"
    run_manage(portal_env(database, 0), "migrate", "--noinput", "-v", "0")
    return database


def process_stat(pid: int) -> tuple[str, int, int] | None:
    """(tillstånd, förälder, starttid) ur /proc/<pid>/stat, eller None om processen inte finns."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return fields[0], int(fields[1]), int(fields[19])


def descendants(root: int) -> set[Process]:
    """Alla processer under `root` (barn, barnbarn …) just nu."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        stat = process_stat(int(entry.name)) if entry.name.isdigit() else None
        if stat:
            children.setdefault(stat[1], []).append(int(entry.name))
    found: set[Process] = set()
    pending = list(children.get(root, []))
    while pending:
        pid = pending.pop()
        stat = process_stat(pid)
        if stat:
            found.add((pid, stat[2]))
            pending += children.get(pid, [])
    return found


def alive(process: Process) -> bool:
    """Sant om processen fortfarande kör (en zombie har redan avslutats)."""
    stat = process_stat(process[0])
    return stat is not None and stat[2] == process[1] and stat[0] != "Z"


def processes_with_env(marker: str) -> list[int]:
    """Levande processer vars miljö innehåller `marker` (testets egen databasadress)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        stat = process_stat(int(entry.name))
        if marker.encode() in environ and stat and stat[0] != "Z":
            found.append(int(entry.name))
    return found


def serves_http(url: str) -> bool:
    """Sant när portalen svarar 200 på inloggningssidan."""
    try:
        with urllib.request.urlopen(url + "/konto/logga-in/", timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# Ett jobb som håller en arbetare upptagen i en minut (längre än runportals väntan, GRACE_SECONDS).
BUSY_WORKER = "from django_q.tasks import async_task; async_task('time.sleep', 60)"


def busy_job_taken(database: Path) -> bool:
    """Sant när klustret har tagit jobbet ur ORM-kön (det är låst tills det är klart)."""
    with contextlib.closing(sqlite3.connect(database, timeout=5)) as connection:
        return bool(connection.execute("SELECT COUNT(*) FROM django_q_ormq WHERE lock IS NOT NULL").fetchone()[0])


@pytest.mark.parametrize("scenario", ["ctrl-c", "ctrl-c-aven-till-barnen", "arbetare-mitt-i-ett-jobb"])
def test_ctrl_c_stops_every_process_it_started(migrated_database: Path, tmp_path: Path, scenario: str) -> None:
    """Ctrl-C (SIGINT till förgrundens processgrupp) stoppar daphne, qcluster och django-q2:s
    sentinel, arbetare, monitor och pusher: i ordning inom några sekunder, även när barnen själva
    också får SIGINT (som när de delar terminalens processgrupp), och med SIGKILL efter
    runportals väntan när en arbetare sitter fast i ett långt jobb."""
    database = tmp_path / "portal.sqlite3"
    shutil.copy(migrated_database, database)
    port = free_port()
    env = portal_env(database, port)
    if scenario == "arbetare-mitt-i-ett-jobb":
        run_manage(env, "shell", "-c", BUSY_WORKER)
    log = tmp_path / "runportal.log"
    with log.open("wb") as output:
        portal = subprocess.Popen(
            [sys.executable, "manage.py", "runportal"],
            cwd=BASE_DIR,
            env=env,
            start_new_session=True,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    started: set[Process] = set()
    try:

        def ready() -> bool:
            """Portalen svarar och klustrets alla processer finns (och har tagit jobbet, om något)."""
            started.update(descendants(portal.pid))
            assert portal.poll() is None, "runportal avslutades direkt"
            return (
                serves_http(f"http://127.0.0.1:{port}")
                and len(descendants(portal.pid)) >= EXPECTED_PROCESSES
                and (scenario != "arbetare-mitt-i-ett-jobb" or busy_job_taken(database))
            )

        wait_for(ready, 20, "portalen startade inte (daphne och qcluster med arbetare)")
        started.update(descendants(portal.pid))
        os.killpg(portal.pid, signal.SIGINT)  # som Ctrl-C i terminalen
        if scenario == "ctrl-c-aven-till-barnen":
            for pid, _ in started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGINT)
        portal.wait(timeout=GRACE_SECONDS + 5)
    finally:
        if portal.poll() is None:
            os.killpg(portal.pid, signal.SIGKILL)
            portal.wait()

    wait_for(lambda: not any(alive(process) for process in started), 3, "processer blev kvar efter Ctrl-C")
    assert len(started) >= EXPECTED_PROCESSES
    assert processes_with_env(str(database)) == []
    assert portal.returncode == 0 and "Portalen är stoppad." in log.read_text(encoding="utf-8")


def test_taken_port_gives_swedish_message_and_starts_nothing(tmp_path: Path) -> None:
    """Lyssnar ett annat program redan på porten: svenskt besked, felkod och ingen process startad."""
    database = tmp_path / "aldrig.sqlite3"
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", 0))
        other_program.listen()
        port = other_program.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "runportal"],
            cwd=BASE_DIR,
            env=portal_env(database, port),
            start_new_session=True,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode != 0
    assert f"Porten {port} på 127.0.0.1 används redan av ett annat program." in result.stderr
    assert "välj en annan port: PORT=" in result.stderr and "make run" in result.stderr
    assert "SMS-portalen startar" not in result.stdout
    assert processes_with_env(str(database)) == [] and not database.exists()


def test_invalid_port_gives_swedish_message(tmp_path: Path) -> None:
    """Ett PORT som inte är ett portnummer ger ett svenskt besked i stället för ett fel från daphne."""
    env = {**portal_env(tmp_path / "aldrig.sqlite3", 0), "PORT": "80a0"}
    result = subprocess.run(
        [sys.executable, "manage.py", "runportal"], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "PORT ska vara ett portnummer mellan 1 och 65535, inte '80a0'." in result.stderr
