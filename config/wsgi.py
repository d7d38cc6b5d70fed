"""WSGI-ingång (för verktyg som kräver WSGI; portalen körs normalt med daphne via asgi.py)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()
