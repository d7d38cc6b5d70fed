"""Skapar eller kompletterar `.env` för lokal utveckling (anropas av `make run`).

Bara standardbiblioteket: körs innan Django kan starta. Befintliga värden i `.env`
eller i miljön ändras aldrig; saknade utvecklingsvärden och slumpade nycklar läggs till.
"""

from __future__ import annotations

import base64
import os
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

# Utvecklingsvärden: namn -> funktion som ger värdet (slumpas per maskin där det är en hemlighet).
DEV_DEFAULTS: dict[str, Callable[[], str]] = {
    "DEBUG": lambda: "true",
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "PHONE_HASH_KEY": lambda: secrets.token_urlsafe(50),
    # En Fernet-nyckel (32 slumpade byte i url-säker base64), som Fernet.generate_key() ger.
    "PHONE_ENCRYPTION_KEYS": lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
    "ADMIN_USERNAME": lambda: "admin",
    "ADMIN_PASSWORD": lambda: secrets.token_urlsafe(12),
}


def existing_keys(env_file: Path) -> set[str]:
    """Namnen som redan är satta i filen."""
    if not env_file.is_file():
        return set()
    keys = set()
    for line in env_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            keys.add(line.split("=", 1)[0].removeprefix("export ").strip())
    return keys


def ensure_dev_env(env_file: Path) -> list[str]:
    """Lägger till saknade utvecklingsvärden i filen och returnerar deras namn."""
    present = existing_keys(env_file) | set(os.environ)
    missing = [name for name in DEV_DEFAULTS if name not in present]
    if missing:
        with env_file.open("a", encoding="utf-8") as handle:
            if env_file.stat().st_size == 0:
                handle.write("# Skapad av `make run` för lokal utveckling. Se .env.example.\n")
            for name in missing:
                handle.write(f"{name}={DEV_DEFAULTS[name]()}\n")
    return missing


def main() -> int:
    """Kör kompletteringen för `.env` i projektets rot."""
    env_file = Path(__file__).resolve().parent.parent / ".env"
    added = ensure_dev_env(env_file)
    if added:
        print(f".env: lade till {', '.join(added)} för lokal utveckling.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
