"""Inställningar för testernas OpenID Connect-leverantör (ett eget Django-projekt, inte portalen).

Databasen och RSA-nyckeln ligger i en tillfällig mapp som testfixturen skapar
(OIDC_TEST_DIR). Kakorna har egna namn: leverantören och portalen kör båda på
127.0.0.1/localhost, och kakor skiljer inte på portar.
"""

from __future__ import annotations

import os
from pathlib import Path

STATE_DIR = Path(os.environ["OIDC_TEST_DIR"])
SECRET_KEY = "testleverantorens-nyckel-anvands-bara-i-testerna-" + "x" * 20
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": STATE_DIR / "leverantor.sqlite3"}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/logga-in/"
SESSION_COOKIE_NAME = "leverantor_session"
CSRF_COOKIE_NAME = "leverantor_csrf"
OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": (STATE_DIR / "rsa.pem").read_text(encoding="ascii"),
    "OAUTH2_VALIDATOR_CLASS": "tests.oidc_provider.validators.GroupsValidator",
    "PKCE_REQUIRED": True,
    "SCOPES": {"openid": "OpenID Connect", "profile": "Namn och grupper", "email": "E-post"},
}
