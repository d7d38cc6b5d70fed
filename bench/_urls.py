"""Mätningarnas URL:er: portalens alla vägar plus `/bench/minimal/`, en vy som bara svarar "ok".

Den minimala vyn går genom samma server och samma middleware (session, CSRF, säkerhet) som
portalen, så kvoten portal/minimal går att jämföra mellan maskiner.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import handler400, handler403, handler404, handler500
from config.urls import urlpatterns as portal_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def minimal(request: HttpRequest) -> HttpResponse:
    """Svarar "ok" på GET och POST utan att röra databasen."""
    return HttpResponse("ok")


urlpatterns = [path("bench/minimal/", minimal), *portal_urlpatterns]
