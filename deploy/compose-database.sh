#!/usr/bin/env bash
# Compose: kör backup.sh eller restore.sh i postgres-containern (tjänsterna backup och restore i
# deploy/compose.yaml). Lösenordet kommer från postgres.env som POSTGRES_PASSWORD och ges till
# libpq som PGPASSWORD; värd, användare och databas sätter compose (PGHOST, PGUSER, PGDATABASE).
#
#   compose-database.sh /deploy/backup.sh
#   compose-database.sh /deploy/restore.sh /backups/smsportal-20261203-023000.dump
set -euo pipefail

PGPASSWORD="${POSTGRES_PASSWORD:?POSTGRES_PASSWORD saknas: ange det i deploy/postgres.env}"
export PGPASSWORD
exec "$@"
