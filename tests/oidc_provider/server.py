"""Startar testleverantören som en riktig serverprocess på 127.0.0.1 och ger portalens OIDC-inställningar."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.oidc_provider.setup_provider import CLIENT_ID, PASSWORD, STAFF_GROUP

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SECRET = "portalens-klienthemlighet-bara-for-testerna-0123456789"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Provider:
    """En körande testleverantör: adress och de inställningar portalen behöver."""

    base_url: str
    password: str = PASSWORD
    staff_group: str = STAFF_GROUP

    def portal_settings(self) -> dict[str, object]:
        """Portalens OIDC_*-inställningar som pekar på leverantören."""
        return {
            "OIDC_RP_CLIENT_ID": CLIENT_ID,
            "OIDC_RP_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_OP_AUTHORIZATION_ENDPOINT": f"{self.base_url}/o/authorize/",
            "OIDC_OP_TOKEN_ENDPOINT": f"{self.base_url}/o/token/",
            "OIDC_OP_USER_ENDPOINT": f"{self.base_url}/o/userinfo/",
            "OIDC_OP_JWKS_ENDPOINT": f"{self.base_url}/o/.well-known/jwks.json",
            "OIDC_STAFF_GROUPS": [STAFF_GROUP],
            "OIDC_ADMIN_GROUPS": ["sms-admin"],
        }


def _free_port() -> int:
    """En ledig TCP-port på 127.0.0.1."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _write_rsa_key(directory: Path) -> None:
    """Ny RSA-nyckel (2048 bitar) för leverantörens signaturer, skapad vid varje testkörning."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (directory / "rsa.pem").write_bytes(pem)


def _run(args: list[str], env: dict[str, str]) -> None:
    """Kör ett kommando i leverantörsprojektet och stoppar testet med dess utskrift om det misslyckas."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if result.returncode:
        raise RuntimeError(f"{args} misslyckades:\n{result.stdout}\n{result.stderr}")


def _wait_for(port: int, process: subprocess.Popen[bytes]) -> None:
    """Väntar tills servern tar emot anslutningar (högst START_TIMEOUT sekunder)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("Testleverantören avslutades vid start.")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("Testleverantören startade inte i tid.")


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[Provider]:
    """Skapar leverantörens databas och nyckel i en tillfällig mapp och kör `runserver` tills blocket slutar."""
    with tempfile.TemporaryDirectory(prefix="oidc-leverantor-") as directory:
        _write_rsa_key(Path(directory))
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "OIDC_TEST_DIR": directory,
            "OIDC_TEST_REDIRECT_URI": redirect_uri,
            "OIDC_TEST_CLIENT_SECRET": CLIENT_SECRET,
        }
        _run(["-m", "django", "migrate", "--verbosity", "0"], env)
        _run(["-m", "tests.oidc_provider.setup_provider"], env)
        port = _free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            _wait_for(port, process)
            yield Provider(base_url=f"http://127.0.0.1:{port}")
        finally:
            process.terminate()
            process.wait(timeout=10)
