"""Mätningarnas inställningar: portalens egna (config.settings) plus en minimal mätvy.

Väljs med DJANGO_SETTINGS_MODULE=bench._settings, bara av mätskripten; portalens egen
URL-konfiguration får aldrig mätvägar. De statiska filerna samlas i en tillfällig mapp
(BENCH_STATIC_ROOT), så att sidorna renderas som i drift utan att röra projektets staticfiles/.
"""

import os
from pathlib import Path

from config.settings import *  # noqa: F403 – allt från portalen, oförändrat
from config.settings import LIVE_POLL_SECONDS, STATIC_ROOT

ROOT_URLCONF = "bench._urls"
STATIC_ROOT = Path(os.environ.get("BENCH_STATIC_ROOT") or STATIC_ROOT)
# Mätningar av liveläget sätter BENCH_LIVE_POLL_SECONDS högt, så att bara händelserna mäts.
LIVE_POLL_SECONDS = float(os.environ.get("BENCH_LIVE_POLL_SECONDS") or LIVE_POLL_SECONDS)
