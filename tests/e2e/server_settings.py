"""Inställningarna för testernas egna serverprocesser (daphne, qcluster, manage.py): portalens
egna plus kortare väntetider, så att testerna ser en ändring inom någon sekund."""

from config.settings import *  # noqa: F403 – allt från portalen, oförändrat utom nedan

# Websocketen kontrollerar sessionen varje sekund: en utloggning syns snabbt i testet.
LIVE_SESSION_CHECK_SECONDS = 1.0
# En leverantör som inte svarar ges upp efter 5 s (felproven i tests/faults väntar inte 10 s).
SMS_TIMEOUT_SECONDS = 5.0
