"""Testleverantörens adresser: inloggning och django-oauth-toolkits OAuth2/OIDC-adresser under /o/."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

urlpatterns = [
    path("logga-in/", auth_views.LoginView.as_view(), name="login"),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
