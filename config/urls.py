"""Portalens URL:er."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from config import health, views

admin.site.site_header = "SMS-portalen – administration"
admin.site.site_title = "SMS-portalen"
admin.site.index_title = "Mallar, användare och logg"

urlpatterns = [
    path("", include("smsportal.urls")),
    path("logg/", include("audit.urls")),
    path("personal/akut-sms/", include("campaigns.urls")),
    path("personal/statistik/", include("stats.urls")),
    path("s/", include("replies.urls")),
    path("konto/", include("accounts.urls")),
    path("dataskydd/", views.data_protection, name="data_protection"),
    # Hälsokontrollen för övervakningen (config/health.py). Utan avslutande snedstreck: så
    # brukar övervakare fråga, och APPEND_SLASH omdirigerar bara adresser som inte finns.
    path("healthz", health.healthz, name="healthz"),
    # Sidor utan egen ikon (t.ex. Django admin) frågar efter /favicon.ico.
    path("favicon.ico", RedirectView.as_view(url=settings.STATIC_URL + "favicon.svg")),
    path("admin/login/", views.admin_login_redirect),
    path("admin/", admin.site.urls),
]

handler400 = "config.views.bad_request"
handler403 = "config.views.permission_denied"
handler404 = "config.views.page_not_found"
handler500 = "config.views.server_error"
