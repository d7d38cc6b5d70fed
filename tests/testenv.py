"""Testmiljön: laddas som pytest-plugin (`-p tests.testenv`) innan Django läser inställningarna.

Testerna läser aldrig utvecklarens `.env` och har egna, fasta testnycklar. DATABASE_URL och
REDIS_URL får komma från miljön (så kör `.ci/run` sviten mot PostgreSQL och Redis).
"""

import os

TEST_ENVIRONMENT = {
    "ENV_FILE": "",
    "DEBUG": "false",
    "SECRET_KEY": "test-nyckel-som-bara-anvands-i-testerna-0123456789abcdef",
    "ADMIN_USERNAME": "admin",
    "ADMIN_PASSWORD": "Test-Admin-Lösenord-42!",
    "PUBLIC_BASE_URL": "http://testserver",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "SMS_PROVIDERS": "locmem",
    # Ingen väntan för leverantörens gräns i testerna (de skickar hundratals SMS i följd);
    # gränsen själv provas i tests/campaigns/test_dispatch.py.
    "CAMPAIGN_SMS_PER_SECOND": "0",
    # Ingen tyst tid för kampanjer i grupper: sviten ska ge samma utfall dygnet runt (CI kan köra
    # efter 20:00). Tyst tid provas med fryst klocka och inställningen satt i tests/campaigns/test_waves.py.
    "CAMPAIGN_QUIET_HOURS": "",
    # Fasta, slumpade testnycklar (bara för testerna): samma regel som i drift gäller vid start.
    "PHONE_HASH_KEY": "tkiYVUblQq1Q26U-BfhXfgzMfTDZFPeCM3SXo2ZhKvVOCu9e3bYll7GeKEyzSf_o",
    "PHONE_ENCRYPTION_KEYS": "G_2bjm3K2-o70PU4k-nNT5kuU6jN8MhM5yNlZtAsebI=",
    # Tvåstegsverifieringen provas i tests/accounts/test_mfa*.py och tests/e2e/test_mfa_browser.py
    # (med inställningen på); övriga tester loggar in med lösenord eller force_login.
    "STAFF_MFA_REQUIRED": "false",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

os.environ.update(TEST_ENVIRONMENT)
