"""URL:er för inloggning och utloggning."""

from django.urls import path

from accounts import views

app_name = "accounts"

urlpatterns = [
    path("logga-in/", views.LoginView.as_view(), name="login"),
    path("logga-ut/", views.LogoutView.as_view(), name="logout"),
    path("session/", views.session_status, name="session_status"),
    path("session/forlang/", views.keep_alive, name="keep_alive"),
]
