"""`manage.py runportal`: startar daphne och django-q2-klustret tillsammans (används av `make run`).

Innan något startas kontrolleras att HOST:PORT är ledig; annars ett svenskt besked och
felkod, utan att någon process startats.

Stoppet (Ctrl-C, SIGTERM, terminalen stängs) ska lämna noll processer efter sig, även
django-q2:s sentinel-, arbets-, monitor- och pusher-processer som `qcluster` själv startar:

- Varje barn startas i en egen session (egen processgrupp). Ctrl-C i terminalen når då bara
  den här processen, inte barnen mitt i sin egen start eller nedstängning.
- Stoppet skickar SIGTERM till varje barn (daphne; `qcluster`, som då stänger sina egna
  processer i ordning och låter ett pågående jobb bli klart), väntar högst `GRACE_SECONDS`
  och skickar sedan SIGKILL till hela processgruppen, så att inget barnbarn blir kvar.
  Hela gruppen får inte SIGTERM direkt: django-q2:s sentinel och arbetare dör då mitt i
  ett jobb i stället för att stängas i ordning.
- Ett andra Ctrl-C stoppar genast (SIGKILL till grupperna).
- Dödas den här processen utan att hinna stoppa barnen (SIGKILL) får barnen SIGTERM av
  Linux-kärnan (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

#: Så länge får barnen stänga i ordning efter SIGTERM innan hela gruppen får SIGKILL.
GRACE_SECONDS = 10.0
#: Så ofta barnen och stoppbegäranden kontrolleras.
POLL_SECONDS = 0.1
#: Linux prctl: skicka en signal till processen när föräldern dör.
_PR_SET_PDEATHSIG = 1
#: Signalerna som stoppar portalen (Ctrl-C, systemd/kill, terminalen stängs).
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Command(BaseCommand):
    """Kör portalen (daphne) och bakgrundsjobben (qcluster); Ctrl-C stoppar alla deras processer."""

    help = "Startar portalen med daphne på HOST:PORT och django-q2-klustret."

    def handle(self, *args: Any, **options: Any) -> None:
        """Kontrollerar adressen, startar båda processerna och stoppar dem när något händer."""
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        problem = address_problem(host, port)
        if problem:
            self.stderr.write(self.style.ERROR(problem))
            raise SystemExit(1)
        self._print_banner(host, port)
        supervisor = Supervisor()
        supervisor.install_signal_handlers()
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        try:
            supervisor.start("qcluster", [python, manage, "qcluster"])
            # Åtkomstloggen skulle innehålla patienternas svarskoder och webhook-tokens: ingen sådan logg.
            supervisor.start(
                "daphne",
                [python, "-m", "daphne", "-b", host, "-p", port, "--access-log", os.devnull, "config.asgi:application"],
            )
            failed = supervisor.wait(self.stdout.write)
        finally:
            supervisor.stop()
        self.stdout.write("Portalen är stoppad.")
        if failed:
            raise SystemExit(1)

    def _print_banner(self, host: str, port: str) -> None:
        """Skriver ut adressen och inloggningen att använda."""
        shown_host = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        self.stdout.write(self.style.SUCCESS(f"\nSMS-portalen startar på http://{shown_host}:{port}/"))
        self.stdout.write(f"Logga in som: {settings.ADMIN_USERNAME}")
        if settings.DEBUG:
            self.stdout.write(f"Lösenord:     {settings.ADMIN_PASSWORD} (från ADMIN_PASSWORD)")
        else:
            self.stdout.write("Lösenord:     värdet i ADMIN_PASSWORD")
        self.stdout.write("Stoppa med Ctrl-C.\n")


# --- Adressen ---------------------------------------------------------------------------------


def address_problem(host: str, port: str) -> str | None:
    """Ett svenskt besked om portalen inte kan lyssna på HOST:PORT, annars None."""
    if not port.isdigit() or not 0 < int(port) < 65536:
        return f"PORT ska vara ett portnummer mellan 1 och 65535, inte {port!r}. Till exempel: PORT=8100 make run"
    error = bind_error(host, int(port))
    if error is None:
        return None
    if error == errno.EADDRINUSE:
        return (
            f"Porten {port} på {host} används redan av ett annat program. "
            f"Stoppa det, eller välj en annan port: PORT={suggested_port(host, int(port))} make run"
        )
    if error == errno.EACCES:
        return f"Porten {port} kräver särskilda rättigheter. Välj en port över 1023: PORT=8000 make run"
    if error in (errno.EADDRNOTAVAIL, errno.ENOENT):
        return f"Adressen {host!r} (HOST) finns inte på den här datorn. Till exempel: HOST=127.0.0.1 make run"
    return f"Portalen kan inte lyssna på {host}:{port} ({os.strerror(error)})."


def bind_error(host: str, port: int) -> int | None:
    """Provar att binda HOST:PORT som daphne gör (SO_REUSEADDR); felkoden (errno) eller None.

    Med SO_REUSEADDR räknas bara en port som någon lyssnar på som upptagen, inte en som
    nyss stängts (TIME_WAIT) och som daphne ändå kan använda.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM, 0, socket.AI_PASSIVE)[0]
    except socket.gaierror:
        return errno.ENOENT
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(address)
        except OSError as error:
            return error.errno or errno.EINVAL
    return None


def suggested_port(host: str, port: int) -> int:
    """En ledig port att föreslå: första lediga av port+100 … port+119 (annars port+100)."""
    candidates = [candidate for candidate in range(port + 100, port + 120) if candidate < 65536] or [8100]
    return next((candidate for candidate in candidates if bind_error(host, candidate) is None), candidates[0])


# --- Barnprocesserna --------------------------------------------------------------------------


class Supervisor:
    """Startar barnprocesser i egna sessioner och stoppar dem med alla deras egna processer."""

    def __init__(self) -> None:
        """Inga barn ännu och inget stopp begärt."""
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.stop_requests = 0

    def install_signal_handlers(self) -> None:
        """Ctrl-C, SIGTERM och SIGHUP begär stopp (görs innan något barn startas)."""
        for signum in STOP_SIGNALS:
            signal.signal(signum, self._request_stop)

    def _request_stop(self, signum: int, frame: Any) -> None:
        """Signalhanteraren: räknar stoppbegäranden (den andra stoppar genast)."""
        self.stop_requests += 1

    def start(self, name: str, command: list[str]) -> None:
        """Startar ett barn i en egen session; det får SIGTERM om den här processen dör."""
        self.children[name] = subprocess.Popen(
            command, start_new_session=True, preexec_fn=_terminate_with_parent(os.getpid())
        )

    def wait(self, say: Callable[[str], Any]) -> bool:
        """Väntar tills stopp begärs eller ett barn avslutas och säger vad som händer (stoppet
        görs sedan av `stop`). Sant om ett barn avslutades av sig självt (t.ex. fel vid starten).
        """
        exited = None
        while not self.stop_requests and exited is None:
            time.sleep(POLL_SECONDS)
            exited = next((name for name, child in self.children.items() if child.poll() is not None), None)
        if exited:
            say(f"{exited} avslutades oväntat (kod {self.children[exited].returncode}); stoppar portalen.")
        else:
            say(f"\nStoppar portalen (väntar högst {GRACE_SECONDS:g} s; Ctrl-C igen stoppar genast) …")
        return exited is not None

    def stop(self) -> None:
        """SIGTERM till varje barn, väntan högst GRACE_SECONDS, sedan SIGKILL till hela grupperna.

        Går att anropa igen (barn och grupper som redan är borta hoppas över).
        """
        requests = self.stop_requests  # en ny begäran under väntan (Ctrl-C igen) stoppar genast
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_SECONDS
        while self._any_alive() and time.monotonic() < deadline and self.stop_requests == requests:
            time.sleep(POLL_SECONDS)
        for child in self.children.values():
            _kill_group(child.pid)
        deadline = time.monotonic() + 2
        while self._any_alive() and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)

    def _any_alive(self) -> bool:
        """Sant så länge någon process finns kvar i något barns processgrupp."""
        for child in self.children.values():
            child.poll()  # samlar upp ett avslutat barn, så att det inte räknas som levande
        return any(_group_exists(child.pid) for child in self.children.values())


def _terminate_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """preexec_fn (Linux): barnet får SIGTERM när föräldern dör, även om den dödas med SIGKILL."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)

    def preexec() -> None:
        """Körs i barnet före exec: begär SIGTERM vid förälderns död (och om den redan dött)."""
        libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
        if os.getppid() != parent_pid:
            os.kill(os.getpid(), signal.SIGTERM)

    return preexec


def _group_exists(pgid: int) -> bool:
    """Sant om någon process finns kvar i processgruppen."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _kill_group(pgid: int) -> None:
    """SIGKILL till hela processgruppen (ingenting händer om den redan är tom)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
