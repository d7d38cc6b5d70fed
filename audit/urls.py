"""URL:er för audit-sidan: händelserna och åtkomstloggen."""

from django.urls import path

from audit import views

app_name = "audit"

urlpatterns = [
    path("", views.audit_log, name="log"),
    path("atkomst/", views.access_log, name="access"),
]
