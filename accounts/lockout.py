"""Spärr per konto från alla adresser, ovanpå django-axes spärr för användarnamn + IP-adress.

django-axes spärrar kombinationen användarnamn + IP-adress efter AXES_FAILURE_LIMIT (5) fel,
så att ingen kan spärra hela kliniken bakom en gemensam adress. Men den som har många adresser
kan då gissa ett kontos lösenord utan gräns. django-axes har bara en gräns för alla
kombinationer i AXES_LOCKOUT_PARAMETERS (egna gränser per kombination kräver en egen hanterare,
jazzband/django-axes#661), så regeln per konto ligger här, i en hanterare (AXES_HANDLER) som
räknar django-axes egen fellogg (AccessFailureLog, en rad per fel):

- Fel för ett användarnamn räknas under den senaste timmen, från alla adresser, men högst
  AXES_FAILURE_LIMIT per adress: en enda adress spärras själv efter fem fel och kan aldrig
  spärra kontot för alla (med gränsen 20 krävs fel från minst fyra adresser).
- När felen når AXES_USERNAME_FAILURE_LIMIT är kontot spärrat från alla adresser i
  AXES_COOLOFF_TIME, räknat från felet som nådde gränsen. Under spärren prövas inga lösenord
  och inga fel sparas (django-axes).
- Efter spärren går rätt lösenord igenom, men ett nytt fel medan timmens fel fortfarande når
  gränsen spärrar kontot igen. En lyckad inloggning nollställer inte kontots räkning (bara
  adressens), annars kunde en angripare gissa vidare efter varje gång personen loggat in.
- En administratör låser upp kontot tidigare: åtgärden *Lås upp inloggningen* under Användare
  i admin, eller `manage.py axes_reset_username <namn>`. Båda tar bort kontots fel.
- Raderna i felloggen (användarnamn, adress, webbläsare, tid) raderas när de är en timme plus
  spärrtiden gamla: vid nästa fel, och annars av schemat varje timme
  (`purge_expired_login_records`), som också raderar django-axes försök efter spärrtiden.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt, AccessFailureLog
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

# Fönstret som kontots fel räknas i.
WINDOW = timedelta(hours=1)


def _cool_off() -> timedelta:
    """Spärrtiden (AXES_COOLOFF_TIME) som timedelta."""
    return get_cool_off() or timedelta(0)


def _counted(failures: list[tuple[datetime, str | None]], until: datetime) -> int:
    """Antal fel inom timmen fram till `until`, högst AXES_FAILURE_LIMIT per adress."""
    per_address = Counter(address for moment, address in failures if until - WINDOW < moment <= until)
    return sum(min(count, settings.AXES_FAILURE_LIMIT) for count in per_address.values())


def account_locked_until(username: str | None, now: datetime | None = None) -> datetime | None:
    """Klockslaget då kontots spärr (från alla adresser) släpper, eller None om kontot inte är spärrat."""
    limit = settings.AXES_USERNAME_FAILURE_LIMIT
    if not username or not limit:
        return None
    now = now or timezone.now()
    cool_off = _cool_off()
    failures = list(
        AccessFailureLog.objects.filter(
            username=username, attempt_time__gt=now - cool_off - WINDOW, attempt_time__lte=now
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", "ip_address")
    )
    for moment, _address in failures:
        if moment <= now - cool_off:
            break
        if _counted(failures, until=moment) >= limit:
            return moment + cool_off
    return None


def _purge_failure_log(now: datetime) -> int:
    """Raderar felloggens rader som inte längre kan räknas (äldre än en timme plus spärrtiden)."""
    deleted, _ = AccessFailureLog.objects.filter(attempt_time__lte=now - WINDOW - _cool_off()).delete()
    return deleted


def purge_expired_login_records(now: datetime | None = None) -> int:
    """Raderar django-axes rader (användarnamn, IP-adress) som ingen spärr längre behöver; schemat
    varje timme. Returnerar antalet raderade rader.

    Felloggen: äldre än en timme plus spärrtiden. Försöken (AccessAttempt): äldre än spärrtiden,
    samma regel som django-axes själv tillämpar vid nästa inloggning eller utloggning (ett äldre
    försök får inte ligga kvar: nästa fel från samma adress skulle räknas ovanpå det). Schemat
    gör att reglerna gäller även när ingen loggar in.
    """
    now = now or timezone.now()
    deleted = _purge_failure_log(now)
    cool_off = get_cool_off()
    if cool_off is not None:  # None: spärren släpper bara när en administratör låser upp
        attempts, _ = AccessAttempt.objects.filter(attempt_time__lte=now - cool_off).delete()
        deleted += attempts
    return deleted


def unlock_at(username: str, ip_address: str | None) -> tuple[datetime, bool]:
    """När spärren som visas släpper, och om den gäller kontot från alla adresser (annars
    användarnamn + adress, räknat från adressens senaste fel)."""
    account_until = account_locked_until(username)
    if account_until is not None:
        return account_until, True
    attempt = AccessAttempt.objects.filter(username=username, ip_address=ip_address).order_by("-attempt_time").first()
    return (attempt.attempt_time if attempt else timezone.now()) + _cool_off(), False


def unlock(username: str) -> int:
    """Låser upp kontot från alla adresser (administratörens åtgärd); returnerar antal borttagna rader."""
    return reset(username=username)


def _matching(rows: QuerySet, ip_address: str | None, username: str | None, ip_or_username: bool) -> QuerySet:
    """Raderna för adressen och/eller användarnamnet, som django-axes väljer försök vid nollställning."""
    if ip_or_username:
        return rows.filter(Q(ip_address=ip_address) | Q(username=username))
    if ip_address:
        rows = rows.filter(ip_address=ip_address)
    if username:
        rows = rows.filter(username=username)
    return rows


class AxesRequest(HttpRequest):
    """En begäran som django-axes har märkt (AxesMiddleware och axes hanterare sätter attributen).

    Bara en typ för typkontrollen: django-axes saknar egna typer och skapar aldrig en sådan klass.
    """

    axes_locked_out: bool
    axes_credentials: dict[str, Any] | None
    axes_ip_address: str


class PortalAxesHandler(AxesDatabaseHandler):
    """django-axes databashanterare plus spärren per konto (se modulens docstring)."""

    def is_locked(self, request: HttpRequest, credentials: dict[str, Any] | None = None) -> bool:
        """Spärrad om användarnamn + adress är spärrade (django-axes) eller kontot från alla adresser."""
        if super().is_locked(request, credentials):
            return True
        return account_locked_until(get_client_username(request, credentials)) is not None

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: AxesRequest | None = None, **kwargs: Any
    ) -> None:
        """django-axes sparar felet; når kontots fel gränsen spärras det, med samma signal och sida."""
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        _purge_failure_log(timezone.now())
        if request is None or request.axes_locked_out:
            return
        username = get_client_username(request, credentials)
        if account_locked_until(username) is None:
            return
        request.axes_locked_out = True
        request.axes_credentials = credentials
        user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)

    def reset_attempts(
        self, *, ip_address: str | None = None, username: str | None = None, ip_or_username: bool = False
    ) -> int:
        """Som django-axes (`axes_reset_username` m.fl.), men felen i felloggen tas också bort:
        annars skulle kontot förbli spärrat från alla adresser."""
        _matching(AccessFailureLog.objects.all(), ip_address, username, ip_or_username).delete()
        return super().reset_attempts(ip_address=ip_address, username=username, ip_or_username=ip_or_username)
