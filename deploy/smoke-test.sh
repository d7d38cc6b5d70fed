#!/usr/bin/env bash
# Röktest efter installation eller uppdatering: svarar portalen som den ska?
#
#   deploy/smoke-test.sh [-k] <bas-adress> [värdnamn]
#
#   deploy/smoke-test.sh https://sms.example.se                     genom nginx
#   deploy/smoke-test.sh http://127.0.0.1:8001 sms.example.se       direkt mot en daphne-process
#   deploy/smoke-test.sh -k https://127.0.0.1                       självsignerat certifikat (test)
#   SMOKE_CONNECT_TO=127.0.0.1 deploy/smoke-test.sh https://sms.example.se
#                                 på servern själv: genom nginx med rätt namn och certifikat, men
#                                 från 127.0.0.1, som siten släpper in till /healthz
#
# Kontrollerar: inloggningssidan (200), portalens CSS (200, text/css) och /healthz (200).
# Medan portalen startar (ingen kontakt, 502, 503, 504) försöker det igen i upp till
# SMOKE_WAIT sekunder (standard 90): /healthz svarar 503 tills bakgrundsjobben har kört sitt
# första minutschema, upp till en halv minut efter start. Felkod om något fel kvarstår. Kräver curl.
set -euo pipefail

usage() {
  echo "Användning: $0 [-k] <bas-adress> [värdnamn]" >&2
  exit 2
}

curl_options=(--silent --show-error --max-time 10)
if [[ "${1:-}" == "-k" ]]; then
  # Godta ett certifikat som inte är betrott (bara för tester med självsignerat certifikat).
  curl_options+=(--insecure)
  shift
fi
base="${1:-}"
[[ "$base" =~ ^https?:// ]] || usage
base="${base%/}"
# Direkt mot daphne (utan nginx) skickas portalens värdnamn och att TLS redan är avslutat;
# annars vägrar portalen värden (ALLOWED_HOSTS) eller omdirigerar till https. Genom nginx
# skriver nginx över X-Forwarded-Proto med det riktiga schemat.
curl_options+=(--header "X-Forwarded-Proto: https")
if [[ -n "${2:-}" ]]; then
  curl_options+=(--header "Host: $2")
fi
if [[ -n "${SMOKE_CONNECT_TO:-}" ]]; then
  # Samma namn (SNI, Host, certifikatet) men anslutningen går till den här adressen.
  curl_options+=(--connect-to "::${SMOKE_CONNECT_TO}:")
fi

failed=0
deadline=$((SECONDS + ${SMOKE_WAIT:-90}))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# fetch <sökväg>: skriver "status innehållstyp" (status 000 utan kontakt); kroppen i $tmp/body.
# Försöker igen till tidsgränsen så länge portalen verkar starta (000, 502, 503, 504).
fetch() {
  local result
  while true; do
    result="$(curl "${curl_options[@]}" --output "$tmp/body" --write-out '%{http_code} %{content_type}' "$base$1" 2>/dev/null)" \
      || result="000 "
    case "${result%% *}" in
      000 | 502 | 503 | 504) ((SECONDS < deadline)) || break; sleep 2 ;;
      *) break ;;
    esac
  done
  echo "$result"
}

# check <namn> <sökväg> [innehållstyp]: sökvägen ska ge 200 (och rätt innehållstyp).
check() {
  local name="$1" path="$2" type="${3:-}" result status content_type
  result="$(fetch "$path")"
  status="${result%% *}"
  content_type="${result#* }"
  if [[ "$status" == 000 ]]; then
    echo "FEL  $name: ingen kontakt med $base$path" >&2
    failed=1
    return 1
  fi
  if [[ "$status" != 200 ]]; then
    echo "FEL  $name: $path gav status $status (väntat 200)" >&2
    # /healthz säger i JSON vilka delar som inte fungerar (inga hemligheter i svaret).
    if [[ "$content_type" == application/json* ]]; then head -c 600 "$tmp/body" >&2; echo >&2; fi
    failed=1
    return 1
  fi
  if [[ -n "$type" && "$content_type" != "$type"* ]]; then
    echo "FEL  $name: $path gav innehållstypen '$content_type' (väntat $type)" >&2
    failed=1
    return 1
  fi
  echo "OK   $name: $path"
}

if check "inloggningssidan" /konto/logga-in/ text/html; then
  # Stilmallen med versionsnamn (t.ex. /static/css/portal.0123abcd.css) som sidan länkar till.
  css="$(grep -o '/static/css/portal[^"]*\.css' "$tmp/body" | head -n 1 || true)"
  if [[ -z "$css" ]]; then
    echo "FEL  statiska filer: inloggningssidan länkar ingen /static/css/portal…css" >&2
    failed=1
  else
    check "statiska filer" "$css" text/css || true
  fi
fi
check "hälsokontroll" /healthz || true

if [[ "$failed" != 0 ]]; then
  echo "Röktestet misslyckades." >&2
  exit 1
fi
echo "Röktestet gick igenom."
