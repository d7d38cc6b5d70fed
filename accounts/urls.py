"""URL:er för inloggning (lösenord och tvåstegsverifiering) och utloggning."""

from django.urls import path

from accounts import mfa_views, oidc, views

app_name = "accounts"

urlpatterns = [
    path("logga-in/", views.LoginView.as_view(), name="login"),
    path("tvastegsverifiering/", mfa_views.verify, name="mfa_verify"),
    path("tvastegsverifiering/aktivera/", mfa_views.enrol, name="mfa_enrol"),
    path("oidc/start/", oidc.OidcStartView.as_view(), name="oidc_start"),
    path("oidc/callback/", oidc.OidcCallbackView.as_view(), name="oidc_callback"),
    path("logga-ut/", views.LogoutView.as_view(), name="logout"),
    path("session/", views.session_status, name="session_status"),
    path("session/forlang/", views.keep_alive, name="keep_alive"),
]
