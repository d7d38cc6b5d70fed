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
    "SECURE_SSL_REDIRECT": "false",
    "COOKIE_SECURE": "false",
    "SMS_PROVIDERS": "locmem",
    # Ingen väntan för leverantörens gräns i testerna (de skickar hundratals SMS i följd);
    # gränsen själv provas i tests/campaigns/test_dispatch.py.
    "CAMPAIGN_SMS_PER_SECOND": "0",
    "PHONE_HASH_KEY": "test-nyckel-for-nummerhash-0123456789abcdef",
    "NO_PROXY": "127.0.0.1,localhost",
    "no_proxy": "127.0.0.1,localhost",
}

os.environ.update(TEST_ENVIRONMENT)
