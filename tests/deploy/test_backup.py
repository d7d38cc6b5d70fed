"""Säkerhetskopian provad på riktigt: deploy/backup.sh och deploy/restore.sh mot PostgreSQL.

En engångsdatabas migreras och fylls (mall, personal med tvåstegsapp, audit-händelse, kampanj med
mottagare, session), kopieras med backup.sh och återställs med restore.sh till en andra, tom
engångsdatabas. Kopian ska ge en fungerande portal utan en enda kampanjuppgift: så hålls löftet
att kampanjer raderas efter 7 dagar, hur länge kopian än sparas. Testet använder alltid sina egna
databaser på 127.0.0.1:5432, oavsett DATABASE_URL.
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

psycopg = pytest.importorskip("psycopg")

BASE_DIR = Path(settings.BASE_DIR)
SERVER_URL = "postgres://postgres@127.0.0.1:5432"
KEEP_DAYS = 14

# Uppgifter som bara får finnas i kampanjtabellerna: de får aldrig hamna i en kopia.
RECIPIENT_NAME = "Backupa Kopiasson"
RECIPIENT_PHONE = "0701234567"
RECIPIENT_MASKED = "070-123 ****"
OPERATION_TYPE = "Kopieringsplastik"
TEMPLATE_TITLE = "Mall som ska överleva kopian"
STAFF_USERNAME = "kopia-personal"

# Fyller källdatabasen genom portalens egna funktioner (körs med `manage.py shell -c`).
SEED = f"""
from datetime import timedelta
from importlib import import_module
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from audit.models import AccessKind
from audit.services import record_access
from campaigns.recipients import parse_recipients
from campaigns.services import create_campaign
from templates_app.models import Category, MessageTemplate

user = get_user_model().objects.create_user({STAFF_USERNAME!r}, password="Kopia-Lösenord-2026!")
TOTPDevice.objects.create(user=user, name="app", confirmed=True)
category = Category.objects.create(name="Kopieprovet")
MessageTemplate.objects.create(category=category, title={TEMPLATE_TITLE!r}, text="Välkommen tillbaka.")
parsed = parse_recipients({RECIPIENT_NAME + ", " + RECIPIENT_PHONE!r}, max_recipients=10)
assert parsed.recipients and not parsed.errors, parsed.errors
campaign = create_campaign(
    user=user,
    slot_at=timezone.now() + timedelta(days=1),
    operation_type={OPERATION_TYPE!r},
    recipients=parsed.recipients,
    request_id="kopieprovet",
).campaign
record_access(AccessKind.CAMPAIGN_PAGE, user=user, campaign_id=campaign.pk)
session = import_module(settings.SESSION_ENGINE).SessionStore()
session["_auth_user_id"] = str(user.pk)
session.create()
print(campaign.pk)
"""


@dataclass(frozen=True)
class Restored:
    """Resultatet av en kopiering och en återställning."""

    source_url: str
    restored_url: str
    backup_dir: Path
    dump: Path
    backup_output: str
    campaign_id: int
    pruned: Path
    recent: Path
    unrelated: Path
    stale_partial: Path


def server_reachable() -> bool:
    """Sant om PostgreSQL svarar på 127.0.0.1:5432 och pg_dump/pg_restore/psql finns."""
    if not all(shutil.which(tool) for tool in ("pg_dump", "pg_restore", "psql")):
        return False
    try:
        psycopg.connect(f"{SERVER_URL}/postgres", connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def admin_sql(statement: str) -> None:
    """Kör en sats (CREATE/DROP DATABASE) mot serverns postgres-databas."""
    with psycopg.connect(f"{SERVER_URL}/postgres", autocommit=True, connect_timeout=5) as connection:
        connection.execute(statement)


def query(database_url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rader från en fråga mot en av engångsdatabaserna."""
    with psycopg.connect(database_url, connect_timeout=5) as connection:
        return connection.execute(sql).fetchall()


def count(database_url: str, table: str) -> int:
    """Antalet rader i en tabell."""
    return query(database_url, f'SELECT count(*) FROM "{table}"')[0][0]


def template_count(database_url: str) -> int:
    """Antalet mallar med provets rubrik."""
    sql = f"SELECT count(*) FROM templates_app_messagetemplate WHERE title = '{TEMPLATE_TITLE}'"
    return query(database_url, sql)[0][0]


def run(command: list[str], database_url: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    """Kör ett kommando i projektroten med portalens testmiljö och en egen databas (utan Redis)."""
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update(DATABASE_URL=database_url, **extra_env)
    return subprocess.run(command, cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=120)


def manage(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`manage.py` med en av engångsdatabaserna."""
    return run([sys.executable, "manage.py", *args], database_url)


def checked(result: subprocess.CompletedProcess[str]) -> str:
    """Utskriften från ett kommando som måste lyckas (annars dess fel i testets besked)."""
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def old_file(path: Path, days: float) -> Path:
    """Skapar en fil som ser `days` dygn gammal ut (ändringstiden)."""
    path.write_bytes(b"gammal kopia")
    then = time.time() - days * 86400
    os.utime(path, (then, then))
    return path


@pytest.fixture(scope="module")
def restored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restored]:
    """Migrerar och fyller en källdatabas, kopierar den och återställer kopian i en tom databas."""
    if not server_reachable():
        pytest.skip("PostgreSQL på 127.0.0.1:5432 (med pg_dump, pg_restore, psql) behövs för att prova kopian.")
    suffix = secrets.token_hex(4)
    names = (f"smsportal_backup_test_src_{suffix}", f"smsportal_backup_test_dst_{suffix}")
    for name in names:
        admin_sql(f'CREATE DATABASE "{name}"')
    source_url, restored_url = (f"{SERVER_URL}/{name}" for name in names)
    try:
        checked(manage(source_url, "migrate", "--noinput", "--verbosity", "0"))
        campaign_id = int(checked(manage(source_url, "shell", "-c", SEED)).split()[-1])
        backup_dir = tmp_path_factory.mktemp("kopior")
        pruned = old_file(backup_dir / "smsportal-20200101-020000.dump", KEEP_DAYS + 1)
        recent = old_file(backup_dir / "smsportal-20200102-020000.dump", KEEP_DAYS - 1)
        unrelated = old_file(backup_dir / "anteckningar.txt", KEEP_DAYS + 30)
        # En halvfärdig fil från en körning som dödades (SIGKILL, strömavbrott) för två dygn sedan.
        stale_partial = old_file(backup_dir / "smsportal-20200103-020000.dump.partial", 2)
        backup_output = checked(
            run(["bash", "deploy/backup.sh"], source_url, BACKUP_DIR=str(backup_dir), BACKUP_KEEP_DAYS=str(KEEP_DAYS))
        )
        dump = max(backup_dir.glob("smsportal-*.dump"), key=lambda path: path.stat().st_mtime)
        checked(run(["bash", "deploy/restore.sh", str(dump)], restored_url))
        yield Restored(
            source_url,
            restored_url,
            backup_dir,
            dump,
            backup_output,
            campaign_id,
            pruned,
            recent,
            unrelated,
            stale_partial,
        )
    finally:
        for name in names:
            admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# Tabellerna med kortlivade persondata enligt datakartan, uppräknade: en ny tabell får testet att
# fallera tills någon bestämt om den hör hemma i kopian. Spärrlistan för "fråga mig inte igen"
# (campaigns_optout, nyckelhash och datum i ett år) följer med: den får inte försvinna vid en
# återställning.
SHORT_LIVED_TABLES = {
    "campaigns_campaign",
    "campaigns_recipient",
    "django_session",
    "django_q_ormq",
    "django_q_task",
    "smsportal_devoutboxmessage",
    "axes_accessattempt",
    "axes_accessattemptexpiration",
    "axes_accessfailurelog",
    "axes_accesslog",
}


def test_restore_keeps_what_the_portal_needs(restored: Restored) -> None:
    """Mallar, personal (med tvåstegsappen), audit- och åtkomstloggen och scheman finns efter återställningen."""
    url = restored.restored_url
    assert template_count(url) == 1
    assert query(url, f"SELECT is_active FROM auth_user WHERE username = '{STAFF_USERNAME}'") == [(True,)]
    assert count(url, "otp_totp_totpdevice") == 1
    assert query(url, "SELECT action FROM audit_auditevent") == [("campaign_created",)]
    assert query(url, "SELECT campaign_id FROM audit_accessevent") == [(restored.campaign_id,)]
    assert count(url, "django_q_schedule") == count(restored.source_url, "django_q_schedule") > 0


def test_restore_has_no_campaign_data_or_sessions(restored: Restored) -> None:
    """Kampanjer, mottagare, sessioner och köade jobb fanns i källan men inte i kopian."""
    for table in ("campaigns_campaign", "campaigns_recipient", "django_session", "django_q_ormq"):
        assert count(restored.source_url, table) > 0, f"provdata saknas i {table}"
        assert count(restored.restored_url, table) == 0, f"{table} har rader efter återställningen"


def test_dump_leaves_out_exactly_the_short_lived_tables(restored: Restored) -> None:
    """Kopian har innehållet i varje tabell utom de kortlivade; en ny tabell måste tas ställning till."""
    listing = checked(run(["pg_restore", "--list", str(restored.dump)], restored.source_url))
    with_data = {line.split()[-2] for line in listing.splitlines() if " TABLE DATA " in line}
    tables = query(restored.source_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    all_tables = {row[0] for row in tables}
    assert all_tables - with_data == SHORT_LIVED_TABLES


def test_dump_contains_no_recipient_data(restored: Restored) -> None:
    """Kopian som text har mallen men varken mottagarens namn, nummer eller operationstypen."""
    text = checked(run(["pg_restore", "--file", "-", str(restored.dump)], restored.source_url))
    assert TEMPLATE_TITLE in text
    for secret in (RECIPIENT_NAME, RECIPIENT_MASKED, RECIPIENT_PHONE, "+46701234567", OPERATION_TYPE):
        assert secret not in text


def test_restored_database_has_no_pending_migrations(restored: Restored) -> None:
    """Den återställda databasen är migrerad: `migrate --check` har inget att göra."""
    checked(manage(restored.restored_url, "migrate", "--check", "--verbosity", "0"))


def test_new_campaign_ids_continue_after_the_logged_ones(restored: Restored) -> None:
    """En ny kampanj får aldrig ett id som audit- och åtkomstloggen redan använt för en raderad kampanj."""
    next_id = query(restored.restored_url, "SELECT nextval(pg_get_serial_sequence('campaigns_campaign', 'id'))")
    assert next_id[0][0] > restored.campaign_id


def test_dump_file_is_private(restored: Restored) -> None:
    """Kopian kan bara läsas av sin ägare (0600) i en katalog bara ägaren kommer in i (0700)."""
    assert stat.S_IMODE(restored.dump.stat().st_mode) == 0o600
    assert stat.S_IMODE(restored.backup_dir.stat().st_mode) == 0o700
    assert "Säkerhetskopia klar" in restored.backup_output


def test_old_dumps_are_pruned(restored: Restored) -> None:
    """Kopior äldre än BACKUP_KEEP_DAYS och gamla halvfärdiga filer raderas; yngre kopior och andra filer lämnas."""
    assert not restored.pruned.exists()
    assert not restored.stale_partial.exists()
    assert restored.recent.exists() and restored.unrelated.exists()
    assert f"raderade ur {restored.backup_dir}: 2." in restored.backup_output


def test_restore_refuses_a_database_in_use(restored: Restored) -> None:
    """restore.sh skriver aldrig över en databas som har tabeller."""
    result = run(["bash", "deploy/restore.sh", str(restored.dump)], restored.restored_url)
    assert result.returncode != 0
    assert "databasen är inte tom" in result.stderr


def test_failed_dump_leaves_no_file(tmp_path: Path) -> None:
    """En databas som inte går att nå ger felkod och varken kopia eller halvfärdig fil."""
    if not server_reachable():
        pytest.skip("PostgreSQL på 127.0.0.1:5432 (med pg_dump, pg_restore, psql) behövs för att prova kopian.")
    missing = f"{SERVER_URL}/smsportal_backup_test_saknas_{secrets.token_hex(4)}"
    result = run(["bash", "deploy/backup.sh"], missing, BACKUP_DIR=str(tmp_path))
    assert result.returncode != 0
    assert list(tmp_path.iterdir()) == []
    # Journalen säger tydligt att kopian uteblev (enheten står då som failed).
    assert f"säkerhetskopian misslyckades (felkod 1); ingen ny kopia skrevs i {tmp_path}." in result.stderr


def resolved(database_url: str) -> str:
    """`DATABASE_TARGET|PGPASSWORD` som deploy/database-url.sh gör dem av en DATABASE_URL."""
    script = 'source deploy/database-url.sh && resolve_database && echo "$DATABASE_TARGET|${PGPASSWORD:-}"'
    result = run(["bash", "-c", script], database_url, PGPASSWORD="")
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_password_never_reaches_the_command_line() -> None:
    """Lösenordet i DATABASE_URL går till PGPASSWORD (avkodat), adressen till pg_dump saknar det."""
    with_password = resolved("postgres://smsportal:hemligt%40ord@db:5432/smsportal")
    assert with_password == "postgresql://smsportal@db:5432/smsportal|hemligt@ord"
    without_password = resolved("psql://smsportal@db/smsportal?sslmode=require")
    assert without_password == "postgresql://smsportal@db/smsportal?sslmode=require|"


def test_sqlite_is_refused_with_a_swedish_message() -> None:
    """Skripten gäller bara PostgreSQL: en SQLite-adress ger ett tydligt fel."""
    result = run(["bash", "deploy/backup.sh"], "sqlite:////tmp/db.sqlite3", BACKUP_DIR="/nonexistent")
    assert result.returncode != 0
    assert "ingen PostgreSQL-adress" in result.stderr


@pytest.fixture
def empty_database() -> Iterator[str]:
    """En tom engångsdatabas att återställa till, raderad efteråt."""
    name = f"smsportal_backup_test_age_{secrets.token_hex(4)}"
    admin_sql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{SERVER_URL}/{name}"
    finally:
        admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_encrypted_dump_restores_only_with_the_key(restored: Restored, empty_database: str, tmp_path: Path) -> None:
    """Med BACKUP_AGE_RECIPIENTS krypteras kopian; restore.sh läser den med den privata nyckeln."""
    if not shutil.which("age") or not shutil.which("age-keygen"):
        pytest.skip("age behövs för krypterade kopior (apt-get install age; `make check` installerar det).")
    identity, recipients, backup_dir = tmp_path / "nyckel.txt", tmp_path / "mottagare.txt", tmp_path / "kopior"
    subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
    public_key = subprocess.run(["age-keygen", "-y", str(identity)], check=True, capture_output=True, text=True)
    recipients.write_text(public_key.stdout)
    encrypting = {"BACKUP_DIR": str(backup_dir), "BACKUP_AGE_RECIPIENTS": str(recipients)}
    checked(run(["bash", "deploy/backup.sh"], restored.source_url, **encrypting))
    (encrypted,) = backup_dir.glob("smsportal-*.dump.age")
    assert stat.S_IMODE(encrypted.stat().st_mode) == 0o600
    assert encrypted.read_bytes().startswith(b"age-encryption.org/v1")  # inte pg_dumps "PGDMP"

    without_key = run(["bash", "deploy/restore.sh", str(encrypted)], empty_database)
    assert without_key.returncode != 0 and "BACKUP_AGE_IDENTITY" in without_key.stderr
    checked(run(["bash", "deploy/restore.sh", str(encrypted)], empty_database, BACKUP_AGE_IDENTITY=str(identity)))
    assert template_count(empty_database) == 1
    assert count(empty_database, "campaigns_recipient") == 0


def test_compose_backup_route_uses_libpq_variables(restored: Restored, tmp_path: Path) -> None:
    """Compose-tjänsten backup: compose-database.sh ger POSTGRES_PASSWORD som PGPASSWORD, värd och databas via PG*.

    Samma kommando som i postgres-containern, utan DATABASE_URL (den har bara postgres.env).
    """
    source_database = restored.source_url.rsplit("/", 1)[1]
    compose_env = {"PGHOST": "127.0.0.1", "PGUSER": "postgres", "PGDATABASE": source_database}
    command = ["bash", "deploy/compose-database.sh", "deploy/backup.sh"]
    without_password = run(command, "", **compose_env, BACKUP_DIR=str(tmp_path))
    assert without_password.returncode != 0 and "POSTGRES_PASSWORD saknas" in without_password.stderr
    checked(run(command, "", **compose_env, BACKUP_DIR=str(tmp_path), POSTGRES_PASSWORD="oanvant-med-trust"))
    (dump,) = tmp_path.glob("smsportal-*.dump")
    listing = checked(run(["pg_restore", "--list", str(dump)], restored.source_url))
    assert "templates_app_messagetemplate" in listing
