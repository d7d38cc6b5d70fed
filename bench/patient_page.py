"""Mätning: patientsidan /s/<kod> i mobilen med Lighthouse, som i drift.

Startar portalen som i drift (DEBUG=false, daphne, statiska filer insamlade och komprimerade av
whitenoise, SQLite i en tillfällig mapp, SMS_PROVIDERS=locmem) med en skickad kampanj, och kör
Lighthouse (mobil, standardens simulerade strypning) mot frågesidan. Skriver prestandapoängen
(0–1), antal överförda byte per fil och totalt, och om sidan håller målen: poäng 1,0 och högst
40 KB överfört. Kräver Node (`npx`, hämtar Lighthouse från npm första gången) och chromium
(CHROME_PATH, standard /usr/bin/chromium). Körs inte av `make test`.

    .venv/bin/python bench/patient_page.py
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import environment, free_port, print_table, setup_django, start_daphne, stop  # noqa: E402

BUDGET_BYTES = 40 * 1024
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu"


def seed_campaign() -> str:
    """En skickad kampanj till tre patienter; returnerar en svarskod (bara id:n och koder, inga nummer)."""
    from django.contrib.auth import get_user_model

    from tests.campaigns.factories import make_campaign, send_all

    user = get_user_model().objects.create_user(username="bench", password="Bench-Lösenord-42!")
    campaign = make_campaign(user)
    send_all(campaign)
    return str(campaign.recipients.values_list("code", flat=True).first())


def lighthouse(url: str, output: Path) -> dict:
    """Kör Lighthouse (mobil, bara prestanda) mot adressen och returnerar rapporten som JSON."""
    npx = shutil.which("npx")
    if npx is None:
        raise SystemExit("npx saknas: installera Node.js för att köra Lighthouse.")
    env = {**os.environ, "CHROME_PATH": os.environ.get("CHROME_PATH", "/usr/bin/chromium")}
    command = [
        npx,
        "--yes",
        "lighthouse",
        url,
        "--only-categories=performance",
        "--output=json",
        f"--output-path={output}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--quiet",
    ]
    subprocess.run(command, env=env, check=True, timeout=300)
    return json.loads(output.read_text())


def main() -> None:
    """Startar portalen som i drift, kör Lighthouse mot patientsidan och skriver resultatet."""
    with tempfile.TemporaryDirectory() as folder:
        port = free_port()
        env = environment(
            f"sqlite:///{folder}/bench.sqlite3", port, Path(folder) / "static", CLINIC_PHONE="08-123 45 67"
        )
        setup_django(env)
        code = seed_campaign()
        server = start_daphne(env, port)
        try:
            report = lighthouse(f"http://127.0.0.1:{port}/s/{code}", Path(folder) / "lighthouse.json")
        finally:
            stop(server)
    score = report["categories"]["performance"]["score"]
    requests = report["audits"]["network-requests"]["details"]["items"]
    rows = [
        [item["url"].split(str(port), 1)[-1], item.get("resourceType", ""), str(item["transferSize"])]
        for item in requests
    ]
    total = sum(item["transferSize"] for item in requests)
    print_table(["fil", "typ", "byte"], [*rows, ["totalt", "", str(total)]], left=2)
    print()
    for audit in (
        "first-contentful-paint",
        "largest-contentful-paint",
        "total-blocking-time",
        "cumulative-layout-shift",
    ):
        print(f"{report['audits'][audit]['title']}: {report['audits'][audit]['displayValue']}")
    print(f"Prestanda (mobil): {score:.2f}  (mål 1,00)")
    print(f"Överfört: {total / 1024:.1f} KB  (mål högst {BUDGET_BYTES // 1024} KB)")
    if score < 1 or total > BUDGET_BYTES:
        raise SystemExit("Patientsidan håller inte målen.")


if __name__ == "__main__":
    main()
