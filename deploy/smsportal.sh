#!/usr/bin/env bash
# SMS-portalens startskript: samma kommandon för systemd-enheterna, Docker och för hand.
#
#   smsportal.sh web <port>   webbserver (daphne) på 127.0.0.1:<port>, bakom nginx
#   smsportal.sh worker       bakgrundsjobben (django-q2-klustret, även de schemalagda jobben)
#   smsportal.sh upgrade      efter varje uppdatering: migrering, statiska filer, administratör
#   smsportal.sh check        Djangos driftkontroll (check --deploy), felkod vid varningar
#
# Inställningarna läses från miljön (systemd: EnvironmentFile=/etc/smsportal/env,
# compose: env_file), aldrig från en fil i installationsmappen.
set -euo pipefail

# Installationsmappen: mappen ovanför deploy/ (t.ex. /opt/smsportal).
INSTALL_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Python i installationens virtuella miljö (SMSPORTAL_PYTHON byter, t.ex. för tester).
PYTHON="${SMSPORTAL_PYTHON:-$INSTALL_DIR/.venv/bin/python}"
# Adressen som daphne lyssnar på: 127.0.0.1 bakom nginx på samma maskin, 0.0.0.0 i en container.
BIND="${SMSPORTAL_BIND:-127.0.0.1}"

usage() {
  echo "Användning: $0 web <port> | worker | upgrade | check | manage <kommando> [argument …]" >&2
  exit 2
}

cd "$INSTALL_DIR"

case "${1:-}" in
  web)
    port="${2:-}"
    [[ "$port" =~ ^[0-9]+$ ]] || usage
    # --access-log /dev/null: daphnes åtkomstlogg skulle innehålla patienternas svarskoder
    # (/s/<kod>) och webhook-tokens; nginx loggar i stället, utan dem.
    # Ingen --proxy-headers: portalen läser själv X-Forwarded-For (TRUSTED_PROXY_COUNT, den
    # n:te adressen från slutet) och X-Forwarded-Proto (https-PUBLIC_BASE_URL); daphne skulle ta
    # den första adressen i X-Forwarded-For, som klienten själv kan hitta på.
    exec "$PYTHON" -m daphne -b "$BIND" -p "$port" --access-log /dev/null config.asgi:application
    ;;
  worker)
    # Vid SIGTERM låter klustret pågående jobb bli klara innan det avslutas.
    exec "$PYTHON" manage.py qcluster
    ;;
  upgrade)
    "$PYTHON" manage.py migrate --noinput
    "$PYTHON" manage.py collectstatic --noinput --verbosity 0
    # Bara om kontot saknas: en avstängd administratör eller ett bytt lösenord står kvar.
    "$PYTHON" manage.py ensure_admin --if-missing
    ;;
  check)
    exec "$PYTHON" manage.py check --deploy --fail-level WARNING
    ;;
  manage)
    # Ett manage.py-kommando för hand (städning, provmejl, shell) med samma Python och mapp.
    shift
    [[ $# -gt 0 ]] || usage
    exec "$PYTHON" manage.py "$@"
    ;;
  *)
    usage
    ;;
esac
