"""Djangos driftkontroll (`check --deploy --fail-level WARNING`) för `make check`.

Med DEBUG avstängt (i miljön eller i `.env`) prövas maskinens egen miljö, som på klinikens
server. Annars (utvecklingsmaskin, CI) finns ingen driftmiljö att pröva: då körs kontrollen med
en påhittad driftlik miljö med slumpade nycklar, så att inställningarnas driftregler ändå prövas.
Bara standardbiblioteket: körs med .venv:s Python innan något annat av portalen behövs.
"""

from __future__ import annotations

import base64
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEPLOY_CHECK = ("manage.py", "check", "--deploy", "--fail-level", "WARNING")
# Som django-environ läser ett sant värde.
TRUE_STRINGS = {"true", "on", "ok", "y", "yes", "1"}


def configured_debug() -> str | None:
    """DEBUG som portalen skulle läsa det: miljön först, sedan filen i ENV_FILE (standard .env)."""
    if "DEBUG" in os.environ:
        return os.environ["DEBUG"]
    env_file = os.environ.get("ENV_FILE", str(BASE_DIR / ".env"))
    if not env_file or not Path(env_file).is_file():
        return None
    for line in Path(env_file).read_text(encoding="utf-8").splitlines():
        match = re.match(r"\s*(?:export\s+)?DEBUG\s*=\s*(.*)$", line)
        if match:
            return match.group(1).strip().strip("'\"")
    return None


def example_variables() -> set[str]:
    """Namnen på alla inställningar som .env.example dokumenterar (även bortkommenterade)."""
    text = (BASE_DIR / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", text, re.MULTILINE))


def throwaway_production_env() -> dict[str, str]:
    """En driftlik miljö med slumpade nycklar: ingen av maskinens egna inställningar följer med."""
    env = {name: value for name, value in os.environ.items() if name not in example_variables()}
    env.update(
        ENV_FILE="",
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        PHONE_HASH_KEY=secrets.token_urlsafe(50),
        # En Fernet-nyckel: 32 slumpade byte i url-säker base64.
        PHONE_ENCRYPTION_KEYS=base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        SMS_WEBHOOK_TOKEN=secrets.token_urlsafe(48),
        ADMIN_PASSWORD=secrets.token_urlsafe(24),
        PUBLIC_BASE_URL="https://sms.example.se",
        SMS_PROVIDERS="elks46",
        ELKS46_API_USERNAME="u" + secrets.token_hex(16),
        ELKS46_API_PASSWORD=secrets.token_hex(16),
        CLINIC_PHONE="08-123 45 67",
    )
    return env


def main() -> int:
    """Kör driftkontrollen i rätt miljö och returnerar dess felkod."""
    debug = configured_debug()
    if debug is not None and debug.lower() not in TRUE_STRINGS:
        print("Driftkontroll med den här maskinens egen miljö (DEBUG är avstängt).", flush=True)
        env = dict(os.environ)
    else:
        print(
            "Driftkontroll: DEBUG är inte avstängt här, så kontrollen körs med en påhittad driftlik miljö "
            "(DEBUG=false, slumpade nycklar, PUBLIC_BASE_URL=https://sms.example.se, SMS_PROVIDERS=elks46). "
            "På servern: deploy/smsportal.sh check med serverns miljö.",
            flush=True,
        )
        env = throwaway_production_env()
    return subprocess.run([sys.executable, *DEPLOY_CHECK], cwd=BASE_DIR, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
