"""`manage.py runportal`: startar daphne och django-q2-klustret tillsammans (används av `make run`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    """Kör portalen (daphne) och bakgrundsjobben (qcluster); Ctrl-C stoppar båda."""

    help = "Startar portalen med daphne på HOST:PORT och django-q2-klustret."

    def handle(self, *args: Any, **options: Any) -> None:
        """Startar båda processerna och väntar tills någon av dem avslutas."""
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        self._print_banner(host, port)
        python = sys.executable
        manage = str(settings.BASE_DIR / "manage.py")
        cluster = subprocess.Popen([python, manage, "qcluster"])
        # Åtkomstloggen skulle innehålla patienternas svarskoder och webhook-tokens: ingen sådan logg.
        server = subprocess.Popen(
            [python, "-m", "daphne", "-b", host, "-p", port, "--access-log", os.devnull, "config.asgi:application"]
        )
        children = [server, cluster]

        def stop(signum: int, frame: Any) -> None:
            """Stoppar båda barnprocesserna vid Ctrl-C eller SIGTERM."""
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            # Stannar den ena processen (t.ex. porten upptagen) stoppas den andra också.
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        finally:
            stop(signal.SIGTERM, None)
            for child in children:
                try:
                    child.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    child.kill()
        self.stdout.write("Portalen är stoppad.")

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
