# shellcheck shell=bash
# Läses in (source) av backup.sh och restore.sh: portalens DATABASE_URL som libpq-anslutning.
#
# Lösenordet ur adressen läggs i PGPASSWORD i stället för på kommandoraden: argumenten till
# pg_dump, pg_restore och psql syns för alla användare på maskinen (ps). Saknas DATABASE_URL
# gäller libpq:s egna variabler (PGHOST, PGPORT, PGUSER, PGPASSWORD eller ~/.pgpass, PGDATABASE).

# Sätter DATABASE_TARGET (adressen utan lösenord, eller databasnamnet) att ge till --dbname och
# exporterar lösenordet i PGPASSWORD. Avslutar med ett svenskt fel om adressen inte är PostgreSQL.
resolve_database() {
  local url="${DATABASE_URL:-}"
  case "$url" in
    "")
      DATABASE_TARGET="${PGDATABASE:-smsportal}"
      return
      ;;
    postgres://* | postgresql://* | pgsql://* | psql://*) url="postgresql://${url#*://}" ;;
    *)
      echo "DATABASE_URL är ingen PostgreSQL-adress (${url%%:*}://…): skripten gäller bara PostgreSQL." >&2
      exit 1
      ;;
  esac
  # postgresql://användare:lösenord@värd… → postgresql://användare@värd… och PGPASSWORD.
  local pattern='^postgresql://([^:@/]*):([^@/]*)@(.*)$'
  if [[ "$url" =~ $pattern ]]; then
    local password="${BASH_REMATCH[2]}"
    url="postgresql://${BASH_REMATCH[1]}@${BASH_REMATCH[3]}"
    # Procentkodade tecken (%40 för @ …) avkodas, som libpq gör med lösenord i adressen.
    PGPASSWORD="$(printf '%b' "${password//%/\\x}")"
    export PGPASSWORD
  fi
  # shellcheck disable=SC2034  # läses av skripten som läser in den här filen
  DATABASE_TARGET="$url"
}
