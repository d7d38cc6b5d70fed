#!/usr/bin/env bash
# SMS-portalen: säkerhetskopia av PostgreSQL-databasen (pg_dump -Fc), körs varje natt av
# deploy/systemd/smsportal-backup.timer.
#
# Löftet att kampanjer raderas 7 dagar efter att de skapats hålls av konstruktionen: kopian har
# schemat för varje tabell men INTE innehållet i de kortlivade tabellerna med persondata
# (EXCLUDED_TABLE_DATA nedan). Ingen kopia innehåller alltså någonsin ett mottagarnamn, ett
# nummer, ett svar eller en operationstyp, hur länge kopian än sparas. Det som kommer med är
# det portalen behöver för att fungera efter en återställning: mallar och kategorier,
# personalkonton (med lösenordshashar och tvåstegsnycklar), audit-loggen, åtkomstloggen,
# leveransrapporterna och django-q2:s scheman.
#
# Miljö (samma som portalen; systemd-enheten läser portalens miljöfil):
#   DATABASE_URL      postgres://användare:lösenord@värd:5432/databas; saknas den gäller libpq:s
#                     PGHOST, PGPORT, PGUSER, PGPASSWORD (eller ~/.pgpass) och PGDATABASE
#   BACKUP_DIR        katalog för kopiorna (standard /var/lib/smsportal/backups)
#   BACKUP_KEEP_DAYS  dagar en kopia sparas innan den raderas (standard 14)
#   BACKUP_AGE_RECIPIENTS  valfri: fil med age-mottagare (publika nycklar, `age-keygen`);
#                     då krypteras kopian (.dump.age) och bara den privata nyckeln kan läsa den.
#                     Med systemd ges filen som credential (se smsportal-backup.service)
set -euo pipefail

# shellcheck source=deploy/database-url.sh
source "$(dirname "${BASH_SOURCE[0]}")/database-url.sh"
umask 077

# Tabeller vars innehåll aldrig kommer med i kopian (pg_dump-mönster: * matchar vad som helst).
EXCLUDED_TABLE_DATA=(
  'campaigns_campaign'          # kampanjer: operationstyp, aviseringsnummer (7 dagar)
  'campaigns_recipient'         # mottagare: namn, nummer, svar (7 dagar)
  'django_session'              # inloggningar: efter en återställning loggar alla in igen
  'django_q_ormq'               # django-q2:s kö (ORM-mäklaren): jobb för kampanjer som inte finns kvar
  'django_q_task'               # django-q2:s körda jobb och deras resultat
  'smsportal_devoutboxmessage'  # utvecklingsutkorgen: SMS-texter (bara med DEBUG på)
  'axes_*'                      # django-axes: användarnamn och IP-adresser vid inloggningsförsök
)

BACKUP_DIR="${BACKUP_DIR:-/var/lib/smsportal/backups}"
BACKUP_KEEP_DAYS="${BACKUP_KEEP_DAYS:-14}"
BACKUP_AGE_RECIPIENTS="${BACKUP_AGE_RECIPIENTS:-}"
partial=""

# Skriver ett felmeddelande och avslutar.
fail() {
  echo "backup.sh: $*" >&2
  exit 1
}

# pg_dump med schemat för alla tabeller och innehållet utom de kortlivade tabellerna, till stdout.
dump() {
  local args=(--format=custom --compress=6 --no-owner --no-privileges)
  local pattern
  for pattern in "${EXCLUDED_TABLE_DATA[@]}"; do
    args+=("--exclude-table-data=$pattern")
  done
  pg_dump "${args[@]}" --dbname="$DATABASE_TARGET"
}

# Raderar kopior äldre än BACKUP_KEEP_DAYS dygn och halvfärdiga filer äldre än ett dygn (från en
# körning som dödades med SIGKILL eller strömavbrott); skriver ut antalet.
prune() {
  find "$BACKUP_DIR" -maxdepth 1 -type f \( \
    \( \( -name 'smsportal-*.dump' -o -name 'smsportal-*.dump.age' \) -mmin +$((BACKUP_KEEP_DAYS * 1440)) \) \
    -o \( -name 'smsportal-*.partial' -mmin +1440 \) \
    \) -print -delete | wc -l
}

# Vid avslut: tar bort den halvfärdiga filen och säger tydligt i journalen att kopian misslyckades
# (enheten står då som failed; se README om övervakning av kopiornas ålder).
finish() {
  local status=$?
  if [[ -n "$partial" ]]; then
    rm -f "$partial"
  fi
  if [[ "$status" -ne 0 ]]; then
    echo "backup.sh: säkerhetskopian misslyckades (felkod $status); ingen ny kopia skrevs i $BACKUP_DIR." >&2
  fi
}

main() {
  trap finish EXIT
  [[ "$BACKUP_KEEP_DAYS" =~ ^[1-9][0-9]*$ ]] || fail "BACKUP_KEEP_DAYS ska vara ett positivt heltal (dagar), inte '$BACKUP_KEEP_DAYS'."
  if [[ -n "$BACKUP_AGE_RECIPIENTS" ]]; then
    command -v age >/dev/null || fail "BACKUP_AGE_RECIPIENTS är satt men programmet age saknas (apt-get install age)."
    [[ -r "$BACKUP_AGE_RECIPIENTS" ]] || fail "age-mottagarna i $BACKUP_AGE_RECIPIENTS går inte att läsa."
  fi
  resolve_database
  mkdir -p "$BACKUP_DIR"
  chmod 700 "$BACKUP_DIR"

  local started name target
  started=$(date +%s)
  name="smsportal-$(date +%Y%m%d-%H%M%S).dump"
  if [[ -n "$BACKUP_AGE_RECIPIENTS" ]]; then
    name="$name.age"
  fi
  target="$BACKUP_DIR/$name"
  # Halvfärdig fil under ett eget namn, borttagen om något går fel: en avbruten körning lämnar
  # aldrig en trasig kopia som ser hel ut.
  partial="$target.partial"
  if [[ -n "$BACKUP_AGE_RECIPIENTS" ]]; then
    dump | age --encrypt --recipients-file "$BACKUP_AGE_RECIPIENTS" --output "$partial"
  else
    dump >"$partial"
  fi
  chmod 600 "$partial"
  mv "$partial" "$target"
  partial=""

  local size pruned
  size=$(du -k "$target" | cut -f1)
  pruned=$(prune)
  echo "Säkerhetskopia klar: $target (${size} KiB, $(($(date +%s) - started)) s, utan kampanjer och sessioner)."
  echo "Kopior äldre än $BACKUP_KEEP_DAYS dagar (och halvfärdiga filer äldre än ett dygn) raderade ur $BACKUP_DIR: $pruned."
}

main "$@"
