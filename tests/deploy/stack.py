"""Driftstacken som kliniken kör den, startad på 127.0.0.1: nginx, daphne-processer och django-q2.

Allt startas ur de levererade filerna i deploy/, så att ett fel i dem syns här:

- nginx (Debians) med den levererade siten deploy/nginx/smsportal.conf, kopierad med bara
  platshållarna utbytta (portar, certifikat, server_name, loggfiler) och inkluderad i en
  minimal nginx.conf med pid- och temporärmappar i en egen mapp; ett självsignerat
  certifikat för 127.0.0.1 skapas vid start.
- `upgrade`, varje daphne-process och django-q2-klustret körs med kommandoraden i
  `ExecStart=` i systemd-enheterna (deploy/systemd/), med /opt/smsportal utbytt mot
  projektroten och %i mot porten, och med enhetens `Environment=` plus miljön som
  /etc/smsportal/env skulle ge (DEBUG av, PostgreSQL, Redis, 46elks mot en låtsasserver).

Används av tests/deploy/ och av mätskript som vill mäta genom nginx med en eller flera
daphne-processer. Beror bara på standardbiblioteket, cryptography och psycopg/redis (inte på
Django i den anropande processen). Till exempel, i ett skript under bench/:

    from bench._common import throwaway_postgres
    from tests.deploy.stack import running_stack
    from tests.fakes.elks46_server import FakeElks46

    elks46 = FakeElks46().start()
    with throwaway_postgres() as database_url, running_stack(
        Path(tempfile.mkdtemp()), database_url, "redis://127.0.0.1:6379/9", elks46.base_url,
        web_processes=1,                 # eller 2: nginx fördelar med least_conn
        TRUSTED_PROXY_COUNT="2",         # skriptets egna X-Forwarded-For per patient räknas
        DJANGO_SETTINGS_MODULE="bench._settings", BENCH_STATIC_ROOT=str(static_root),
    ) as stack:
        os.environ.update(stack.env); django.setup()   # testdata direkt i stackens databas
        ...  # begäranden mot stack.base_url (https, självsignerat: aiohttp med ssl=False)

nginx lägger klientens adress sist i X-Forwarded-For; med TRUSTED_PROXY_COUNT=2 tar portalen
adressen före den, alltså den som skriptet själv satte (annars delar alla patienter 127.0.0.1
och gränsen per IP-adress slår till). Stackens Redis-databas töms vid start.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import re
import secrets
import shlex
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = DEPLOY / "systemd"
SITE = DEPLOY / "nginx" / "smsportal.conf"
NGINX = "/usr/sbin/nginx"
#: Installationsmappen i enhetsfilerna; byts mot projektroten.
INSTALL_DIR = "/opt/smsportal"
LOGIN_PATH = "/konto/logga-in/"
#: Så länge får en process starta (daphne med Django, nginx) innan stacken ger upp.
START_TIMEOUT = 60.0
#: Så länge får en process stänga i ordning efter SIGTERM innan processgruppen får SIGKILL.
STOP_GRACE = 15.0
#: Administratören som `upgrade` (ensure_admin) skapar.
ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "Stack-Admin-Lösenord-42!"


@dataclass
class UnitCommand:
    """Det som systemd kör för en enhet: kommandorad, arbetsmapp och enhetens egna miljövariabler."""

    argv: list[str]
    cwd: Path
    environment: dict[str, str]


def unit_command(unit: str, instance: str = "") -> UnitCommand:
    """Läser `ExecStart=`, `WorkingDirectory=` och `Environment=` ur enhetsfilen i deploy/systemd/.

    /opt/smsportal blir projektroten och %i blir `instance` (porten för smsportal-web@.service).
    """
    values: dict[str, list[str]] = {}
    section = ""
    for raw in (UNITS / unit).read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), []).append(value.strip())

    def expand(text: str) -> str:
        """Byter installationsmappen och instansnamnet som systemd skulle göra."""
        return text.replace(INSTALL_DIR, str(ROOT)).replace("%i", instance)

    environment: dict[str, str] = {}
    for assignment in values.get("Environment", []):
        for pair in shlex.split(assignment):
            key, value = pair.split("=", 1)
            environment[key] = expand(value)
    (exec_start,) = values["ExecStart"]
    return UnitCommand(
        argv=[expand(part) for part in shlex.split(exec_start)],
        cwd=Path(expand(values["WorkingDirectory"][0])),
        environment=environment,
    )


@dataclass
class Process:
    """En process som stacken startade (i en egen processgrupp), med sin logg i en fil."""

    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes]

    def output(self, limit: int = 4000) -> str:
        """De sista `limit` tecknen som processen skrivit (stdout och stderr)."""
        self.log.flush()
        return self.log_path.read_text(errors="replace")[-limit:]

    def stop(self) -> None:
        """SIGTERM till processen (som systemd med KillMode=mixed), sedan SIGKILL till hela gruppen.

        django-q2:s kluster stänger sina arbetsprocesser själv efter SIGTERM; det som ändå är
        kvar efter STOP_GRACE sekunder, barnbarn inräknade, dödas med gruppen.
        """
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                pass
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, signal.SIGKILL)
        self.popen.wait()
        self.log.close()


def start(name: str, argv: list[str], cwd: Path, env: dict[str, str], folder: Path) -> Process:
    """Startar `argv` i en egen session (egen processgrupp), utdata till `folder/<name>.log`."""
    log_path = folder / f"{name}.log"
    log = log_path.open("ab")
    popen = subprocess.Popen(
        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    return Process(name, popen, log_path, log)


def free_ports(count: int) -> list[int]:
    """`count` olika lediga TCP-portar på 127.0.0.1 (samma funktion som mätskripten använder)."""
    from bench._common import free_port

    ports: list[int] = []
    while len(ports) < count:
        port = free_port()
        if port not in ports:
            ports.append(port)
    return ports


def insecure_tls() -> ssl.SSLContext:
    """TLS utan kontroll av certifikatet (stackens certifikat är självsignerat)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def http_status(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> int:
    """Statuskoden för GET `url` utan att följa omdirigeringar; 0 om ingen svarar."""

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        """Följer inga omdirigeringar: statusen 301/302 är själva svaret."""

        def redirect_request(self, *args: object, **kwargs: object) -> None:
            """Ingen ny begäran."""
            return None

    opener = urllib.request.build_opener(NoRedirect, urllib.request.HTTPSHandler(context=insecure_tls()))
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (urllib.error.URLError, OSError):
        return 0


def wait_for_login_page(process: Process, url: str, headers: dict[str, str] | None = None) -> None:
    """Väntar tills inloggningssidan på `url` svarar 200 (processen får inte ha avslutats)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.popen.poll() is not None:
            raise RuntimeError(f"{process.name} avslutades direkt:\n{process.output()}")
        if http_status(url + LOGIN_PATH, headers) == 200:
            return
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} svarade inte inom {START_TIMEOUT:.0f} s:\n{process.output()}")


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """Ett självsignerat certifikat för 127.0.0.1 och localhost (certifikat, nyckel)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "fullchain.pem", folder / "privkey.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def replace_once(text: str, pattern: str, replacement: str, count: int = 1) -> str:
    """Byter `pattern` (reguljärt uttryck) mot `replacement`; det ska förekomma exakt `count` gånger.

    Ändras siten så att en platshållare inte längre finns blir det ett tydligt fel här.
    """
    result, found = re.subn(pattern, replacement, text, flags=re.MULTILINE)
    if found != count:
        raise AssertionError(f"{SITE.name}: {pattern!r} finns {found} gånger, väntat {count}")
    return result


def site_for_test(
    web_ports: list[int], http_port: int, https_port: int, cert: Path, key: Path, logs: Path, acme_root: Path
) -> str:
    """Den levererade siten med platshållarna utbytta mot stackens portar, certifikat, loggar och webroot.

    Raderna `listen [::]:…` tas bort (IPv6 finns inte alltid i testmiljön), omdirigeringen från
    HTTP går till stackens HTTPS-port och Let's Encrypts kontrollfiler läses ur `acme_root`.
    HTTPS-standardservern (ssl_reject_handshake) mister bara `default_server`: stacken nås på
    adressen 127.0.0.1, och en klient skickar inget SNI för en adress, så med den kvar skulle
    varje handskakning vägras. Den namngivna servern, först i filen, blir då standard för
    porten. Allt annat är orört.
    """
    text = SITE.read_text()
    servers = "".join(f"    server 127.0.0.1:{port};\n" for port in web_ports)
    text = replace_once(text, r"^    server 127\.0\.0\.1:\d+;\n(?:    server 127\.0\.0\.1:\d+;\n)*", servers)
    text = replace_once(text, r"^    listen \[::\]:\d+.*\n", "", count=4)
    text = replace_once(text, r"^    listen 80( default_server)?;", rf"    listen 127.0.0.1:{http_port}\g<1>;", count=2)
    text = replace_once(
        text, r"^    listen 443 ssl http2 default_server;", f"    listen 127.0.0.1:{https_port} ssl http2;"
    )
    text = replace_once(text, r"^    listen 443 ssl", f"    listen 127.0.0.1:{https_port} ssl")
    text = replace_once(text, r"server_name sms\.example\.se;", "server_name 127.0.0.1;", count=2)
    text = replace_once(
        text,
        r"return 301 https://sms\.example\.se\$request_uri;",
        rf"return 301 https://127.0.0.1:{https_port}$request_uri;",
    )
    text = replace_once(text, r"root /var/www/letsencrypt;", f"root {acme_root};")
    text = replace_once(text, r"(ssl_certificate +)/etc/ssl/smsportal/fullchain\.pem;", rf"\g<1>{cert};")
    text = replace_once(text, r"(ssl_certificate_key +)/etc/ssl/smsportal/privkey\.pem;", rf"\g<1>{key};")
    text = replace_once(
        text, r"(access_log +)/var/log/nginx/smsportal-access\.log ", rf"\g<1>{logs / 'access.log'} ", 2
    )
    return replace_once(text, r"(error_log +)/var/log/nginx/smsportal-error\.log ", rf"\g<1>{logs / 'error.log'} ", 2)


def nginx_main_config(prefix: Path, site: Path) -> str:
    """En minimal nginx.conf som Debians: http-block med mime-typer, siten inkluderad; allt under `prefix`."""
    temp_paths = "\n".join(
        f"    {kind}_temp_path {prefix / 'temp' / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # Som root kör nginx annars arbetsprocesserna som nobody, som inte når testets mappar.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "nginx-main-error.log"} warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log off;
{temp_paths}
    include {site};
}}
"""


@dataclass
class Stack:
    """En körande stack: adresser, miljö, loggar och processerna."""

    folder: Path
    base_url: str
    http_url: str
    web_ports: list[int]
    env: dict[str, str]
    access_log: Path
    error_log: Path
    nginx: Process | None = None
    web: list[Process] = field(default_factory=list)
    worker: Process | None = None

    def manage(self, *args: str) -> str:
        """Kör `manage.py` med stackens miljö (som tjänsternas); returnerar stdout."""
        python = Path(self.env.get("SMSPORTAL_PYTHON") or ROOT / ".venv" / "bin" / "python")
        result = subprocess.run(
            [str(python), "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} misslyckades:\n{result.stderr[-3000:]}")
        return result.stdout

    def processes(self) -> list[Process]:
        """Alla processer som stacken startat och som ännu inte stoppats."""
        return [p for p in [self.nginx, *self.web, self.worker] if p is not None and not p.log.closed]

    def portal_logs(self) -> str:
        """Allt som daphne-processerna och django-q2-klustret har skrivit (portalens egna loggar)."""
        return "".join(p.log_path.read_text(errors="replace") for p in [*self.web, self.worker] if p is not None)


def production_environment(
    base_url: str, database_url: str, redis_url: str, elks46_url: str, **overrides: str
) -> dict[str, str]:
    """Miljön som /etc/smsportal/env ger: DEBUG av, egna slumpade nycklar, TLS-proxy, 46elks.

    Bara PATH och språk tas från testprocessen (systemd ger tjänsterna en ren miljö).
    `overrides` ändrar eller lägger till variabler (t.ex. TRUSTED_PROXY_COUNT för en mätning
    som själv sätter X-Forwarded-For, eller DJANGO_SETTINGS_MODULE).
    """
    from cryptography.fernet import Fernet

    from bench._common import fake_elks46_settings

    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "ENV_FILE": "",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "PHONE_HASH_KEY": secrets.token_urlsafe(48),
        "PHONE_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "ADMIN_USERNAME": ADMIN_USERNAME,
        "ADMIN_PASSWORD": ADMIN_PASSWORD,
        "PUBLIC_BASE_URL": base_url,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "TRUSTED_PROXY_COUNT": "1",
        "CLINIC_PHONE": "08-123 45 67",
        "LOG_LEVEL": "INFO",
        **fake_elks46_settings(elks46_url),
        "SMS_WEBHOOK_TOKEN": secrets.token_urlsafe(48),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **overrides,
    }


def flush_redis(url: str) -> None:
    """Tömmer stackens Redis-databas: köade jobb från tidigare körningar får inte nå den nya databasen."""
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5).flushdb()


def run_unit(unit: str, env: dict[str, str], instance: str = "") -> None:
    """Kör en engångsenhet (smsportal-upgrade.service) till slut; fel ger ett undantag med utdata."""
    command = unit_command(unit, instance)
    result = subprocess.run(
        command.argv, cwd=command.cwd, env={**env, **command.environment}, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(f"{unit} misslyckades:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}")


def start_unit(stack: Stack, unit: str, name: str, instance: str = "") -> Process:
    """Startar en tjänst (daphne eller django-q2) med enhetens kommandorad och miljö."""
    command = unit_command(unit, instance)
    return start(name, command.argv, command.cwd, {**stack.env, **command.environment}, stack.folder)


def start_web(stack: Stack, port: int) -> Process:
    """smsportal-web@<port>, registrerad i stacken; väntar tills inloggningssidan svarar direkt från daphne."""
    process = start_unit(stack, "smsportal-web@.service", f"web-{port}", instance=str(port))
    stack.web.append(process)
    # Direkt mot daphne: portalen omdirigerar till https utan proxyns X-Forwarded-Proto.
    wait_for_login_page(process, f"http://127.0.0.1:{port}", {"X-Forwarded-Proto": "https"})
    return process


@contextlib.contextmanager
def running_stack(
    folder: Path,
    database_url: str,
    redis_url: str,
    elks46_url: str,
    web_processes: int = 2,
    worker: bool = True,
    **overrides: str,
) -> Iterator[Stack]:
    """Hela stacken i `folder`: upgrade, `web_processes` daphne, django-q2 (om `worker`) och nginx.

    `database_url` ska vara en tom databas som stacken får migrera (t.ex. från
    bench._common.throwaway_postgres); Redis-databasen i `redis_url` töms först. SMS går till
    46elks-API:t på `elks46_url` (en låtsasserver). Vid slutet stoppas varje process.
    """
    logs = folder / "logs"
    for path in (logs, folder / "temp"):
        path.mkdir(parents=True, exist_ok=True)
    https_port, http_port, *web_ports = free_ports(2 + web_processes)
    base_url = f"https://127.0.0.1:{https_port}"
    env = production_environment(base_url, database_url, redis_url, elks46_url, **overrides)
    if not (ROOT / ".venv" / "bin" / "python").exists():
        env["SMSPORTAL_PYTHON"] = sys.executable  # startskriptet väljer annars installationens .venv
    stack = Stack(
        folder=folder,
        base_url=base_url,
        http_url=f"http://127.0.0.1:{http_port}",
        web_ports=web_ports,
        env=env,
        access_log=logs / "access.log",
        error_log=logs / "error.log",
    )
    flush_redis(redis_url)
    run_unit("smsportal-upgrade.service", env)
    try:
        for port in web_ports:
            start_web(stack, port)
        if worker:
            stack.worker = start_unit(stack, "smsportal-worker.service", "worker")
        start_nginx(stack)
        yield stack
    finally:
        for process in reversed(stack.processes()):
            process.stop()


def start_nginx(stack: Stack) -> Process:
    """nginx med den levererade siten, registrerad i stacken; väntar tills inloggningssidan svarar genom nginx."""
    process = stack.nginx = launch_nginx(stack)
    wait_for_login_page(process, stack.base_url)
    return process


def launch_nginx(stack: Stack) -> Process:
    """Startar nginx med den levererade siten (platshållarna utbytta) i förgrunden, utan att vänta.

    Siten pekar på stackens `web_ports`, vare sig någon daphne lyssnar där eller inte.
    """
    cert, key = self_signed_certificate(stack.folder)
    https_port = int(stack.base_url.rsplit(":", 1)[1])
    http_port = int(stack.http_url.rsplit(":", 1)[1])
    site = stack.folder / "smsportal.conf"
    acme_root = stack.folder / "letsencrypt"
    (acme_root / ".well-known" / "acme-challenge").mkdir(parents=True, exist_ok=True)
    site.write_text(site_for_test(stack.web_ports, http_port, https_port, cert, key, stack.folder / "logs", acme_root))
    main = stack.folder / "nginx.conf"
    main.write_text(nginx_main_config(stack.folder, site))
    check = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(stack.folder), "-c", str(main)], capture_output=True, text=True, timeout=30
    )
    if check.returncode != 0:
        raise RuntimeError(f"nginx -t underkände siten:\n{check.stderr}")
    argv = [NGINX, "-p", str(stack.folder), "-c", str(main), "-g", "daemon off;"]
    return start("nginx", argv, stack.folder, dict(os.environ), stack.folder)
