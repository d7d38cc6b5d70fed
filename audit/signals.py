"""Inloggningar, utloggningar, misslyckade försök och spärrar till audit-loggen."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from audit.models import Action
from audit.services import record


def _known_user(username: str | None) -> Any:
    """Returnerar kontot med det angivna användarnamnet, eller None.

    Inskrivna användarnamn som inte finns sparas aldrig: de kan vara felskrivna lösenord.
    """
    if not username:
        return None
    return get_user_model().objects.filter(username=username).first()


@receiver(user_logged_in)
def log_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Loggar en lyckad inloggning."""
    record(Action.LOGIN, actor=user, status="ok")


@receiver(user_logged_out)
def log_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    """Loggar en utloggning (inaktivitet loggas separat av middleware).

    Status "ok" när personen loggade ut själv; en utloggning som portalen gjorde sätter sitt skäl
    i `request.logout_status` (t.ex. när andra faktorn nollställts).
    """
    if user is not None and not getattr(request, "session_expired", False):
        record(Action.LOGOUT, actor=user, status=getattr(request, "logout_status", "ok"))


@receiver(user_login_failed)
def log_login_failed(sender: Any, credentials: dict, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """Loggar ett misslyckat försök, kopplat till kontot bara om det finns."""
    if kwargs.get("second_factor"):
        return  # fel kod i andra steget: accounts.mfa loggar den som MFA_FAILED
    user = _known_user(credentials.get("username"))
    record(Action.LOGIN_FAILED, actor=user, status=_failure_status(user, request))


def _failure_status(user: Any, request: HttpRequest | None) -> str:
    """Varför inloggningen nekades, så långt det går att veta: spärrad, avstängt konto, fel lösenord, okänt konto.

    Spärren (django-axes) och ett avstängt konto nekar oavsett lösenord: att logga dem som "fel
    lösenord" gav fel svar på frågan "varför kommer Sara inte in".
    """
    if request is not None and getattr(request, "axes_locked_out", False):
        return "spärrad"
    if user is None:
        return "okänt konto"
    return "fel lösenord" if user.is_active else "kontot avstängt"


@receiver(user_locked_out)
def log_lockout(sender: Any, request: HttpRequest, username: str | None, ip_address: str, **kwargs: Any) -> None:
    """Loggar att en kombination av användarnamn och IP-adress har spärrats."""
    user = _known_user(username)
    record(Action.LOCKOUT, actor=user, status="spärrad", data={"okänt_konto": user is None})
