#!/usr/bin/env bash
# SMS-portalen: återställer en säkerhetskopia från deploy/backup.sh till en TOM databas.
#
# Användning:  deploy/restore.sh /var/lib/smsportal/backups/smsportal-20261203-023000.dump
# Databasen anges som för portalen: DATABASE_URL, annars libpq:s PGHOST, PGUSER, PGDATABASE …
# Skapa den först, tom och ägd av portalens databasanvändare, och återställ som den användaren:
#   createdb -O smsportal smsportal
# Krypterad kopia (.dump.age): BACKUP_AGE_IDENTITY pekar ut den privata age-nyckeln.
#
# Efteråt, med portalens miljö: `python manage.py migrate` (en nyare version kan ha fler
# migreringar än kopian), sedan starta webben och klustret. Kopian innehåller inga kampanjer och
# inga sessioner (se backup.sh): öppna kampanjer skapas på nytt och alla loggar in igen.
set -euo pipefail

# shellcheck source=deploy/database-url.sh
source "$(dirname "${BASH_SOURCE[0]}")/database-url.sh"

# Skriver ett felmeddelande och avslutar.
fail() {
  echo "restore.sh: $*" >&2
  exit 1
}

# Antalet tabeller som redan finns i databasen (utom PostgreSQL:s egna scheman).
table_count() {
  psql --no-psqlrc --tuples-only --no-align --dbname="$1" --command \
    "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
}

# Skriver kopian i pg_dumps eget format till stdout (dekrypterad om den är krypterad med age).
read_dump() {
  local file="$1"
  if [[ "$file" == *.age ]]; then
    [[ -n "${BACKUP_AGE_IDENTITY:-}" ]] || fail "$file är krypterad: ange den privata age-nyckeln i BACKUP_AGE_IDENTITY."
    command -v age >/dev/null || fail "programmet age saknas (apt-get install age)."
    age --decrypt --identity "$BACKUP_AGE_IDENTITY" "$file"
  else
    cat "$file"
  fi
}

# Kopian saknar kampanjtabellernas räknare (de följer med tabellernas innehåll). Nästa kampanj-id
# sätts över det högsta id som audit- och åtkomstloggen nämner, så att en ny kampanj aldrig får
# samma id som en raderad kampanj i loggarna (logguppföljningen frågar "vem såg kampanj N").
continue_campaign_ids() {
  psql --no-psqlrc --quiet --tuples-only --dbname="$1" --set=ON_ERROR_STOP=1 >/dev/null <<'SQL'
SELECT setval(pg_get_serial_sequence('campaigns_campaign', 'id'), highest)
FROM (
  SELECT GREATEST(
    (SELECT max(campaign_id) FROM audit_accessevent),
    (SELECT max((data ->> 'kampanj')::bigint) FROM audit_auditevent WHERE jsonb_typeof(data -> 'kampanj') = 'number')
  ) AS highest
) AS logged
WHERE highest IS NOT NULL;
SQL
}

main() {
  [[ $# -eq 1 ]] || fail "ange säkerhetskopian att återställa: deploy/restore.sh FIL"
  local file="$1" tables started
  [[ -r "$file" ]] || fail "säkerhetskopian $file går inte att läsa."
  resolve_database
  tables=$(table_count "$DATABASE_TARGET") || fail "databasen går inte att nå (finns den? skapa den med createdb)."
  # Aldrig över en databas som används: en halv återställning ovanpå riktiga data går inte att reda ut.
  [[ "$tables" -eq 0 ]] || fail "databasen är inte tom ($tables tabeller). Återställ till en ny, tom databas."

  started=$(date +%s)
  # En enda transaktion: går något fel blir databasen tom igen, aldrig halvt återställd.
  read_dump "$file" | pg_restore --no-owner --no-privileges --exit-on-error --single-transaction --dbname="$DATABASE_TARGET"
  continue_campaign_ids "$DATABASE_TARGET"
  echo "Återställt från $file på $(($(date +%s) - started)) s."
  echo "Kör nu med portalens miljö: python manage.py migrate, och starta sedan webben och klustret."
  echo "Kopian har inga kampanjer och inga sessioner: öppna kampanjer skapas på nytt, och alla loggar in igen."
}

main "$@"
