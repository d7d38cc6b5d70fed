"""Inloggning via klinikens egen identitetsleverantör (OpenID Connect, mozilla-django-oidc).

Av tills OIDC_RP_CLIENT_ID är satt. Leverantören äger den andra faktorn (t.ex. Microsoft
Entra ID med krav på MFA, Freja eID, SITHS via en IdP), därför räknas en session som loggats
in genom `PortalOIDCBackend` som stark autentisering (`accounts.mfa.session_is_verified`).

Kontot matchas på ett stabilt påstående (OIDC_STABLE_CLAIM, standard `sub`) som sparas i
`OidcIdentity`, aldrig på e-postadressen. Rollen sätts om vid varje inloggning ur
gruppåståendet (OIDC_GROUPS_CLAIM): en grupp i OIDC_ADMIN_GROUPS ger administratör, en i
OIDC_STAFF_GROUPS personal; den som saknar båda nekas med en svensk sida, och inget konto
skapas eller aktiveras.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import SuspiciousOperation
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from accounts.models import OidcIdentity
from accounts.roles import ADMIN_GROUP
from audit.models import Action
from audit.services import record

logger = logging.getLogger(__name__)

#: Sökvägen som Django sparar i sessionen (BACKEND_SESSION_KEY) för en OIDC-inloggning.
BACKEND_PATH = "accounts.oidc.PortalOIDCBackend"
#: Varför den senaste inloggningen nekades (sätts på begäran av backend, läses av vyn).
REFUSAL_ATTRIBUTE = "oidc_refusal"
NO_ROLE = "ingen behörig grupp"
MISSING_CLAIM = "saknar stabilt id"


def oidc_enabled() -> bool:
    """Sant när klinikens identitetsleverantör är inställd (OIDC_RP_CLIENT_ID satt)."""
    return bool(settings.OIDC_RP_CLIENT_ID)


def role_for(claims: dict[str, Any]) -> str | None:
    """Rollen som gruppåståendet ger: "admin", "staff" eller None (ingen behörighet)."""
    groups = claims.get(settings.OIDC_GROUPS_CLAIM) or []
    groups = {groups} if isinstance(groups, str) else {str(group) for group in groups}
    if groups & set(settings.OIDC_ADMIN_GROUPS):
        return "admin"
    if groups & set(settings.OIDC_STAFF_GROUPS):
        return "staff"
    return None


def _new_username(claims: dict[str, Any], subject: str) -> str:
    """Ett ledigt användarnamn: `preferred_username` om det är ledigt, annars med ett kort suffix."""
    base = str(claims.get("preferred_username") or "oidc")[:120]
    users = get_user_model().objects
    if not users.filter(username=base).exists():
        return base
    return f"{base}-{hashlib.sha256(subject.encode()).hexdigest()[:10]}"


def apply_role(user: Any, role: str, claims: dict[str, Any]) -> None:
    """Sätter namn, is_staff och gruppen "Administratörer" efter rollen och sparar kontot.

    `is_active` lämnas orört: ett konto som en administratör stängt av i portalen förblir
    avstängt (inloggningen nekas) även om leverantören fortfarande släpper in personen.
    """
    user.first_name = str(claims.get("given_name") or user.first_name)[:150]
    user.last_name = str(claims.get("family_name") or user.last_name)[:150]
    user.is_staff = role == "admin"
    user.save()
    admins, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    if role == "admin":
        user.groups.add(admins)
    else:
        user.groups.remove(admins)


class PortalOIDCBackend(OIDCAuthenticationBackend):
    """mozilla-django-oidc:s backend med portalens matchning och roller; gör ingenting när OIDC är av."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Läser leverantörens inställningar bara när OIDC är på (Django skapar alla backends vid varje inloggning)."""
        self.UserModel = get_user_model()
        if oidc_enabled():
            super().__init__(*args, **kwargs)

    def authenticate(self, request: HttpRequest | None, **kwargs: Any) -> Any:
        """Koden från leverantören byts mot token och id-token (signatur, nonce, PKCE kontrolleras).

        Bara från återkopplingsvyn (som skickar med `nonce`): lösenordsformuläret når aldrig hit,
        även om dess adress råkar ha `code` och `state` i frågesträngen.
        """
        if not oidc_enabled() or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_user(self, user_id: Any) -> Any:
        """Sessionens konto, bara medan OIDC är på och kontot är aktivt (annars utloggad, aldrig ett fel)."""
        if not oidc_enabled():
            return None
        user = self.UserModel.objects.filter(pk=user_id).first()
        return user if user is not None and user.is_active else None

    def get_userinfo(self, access_token: str, id_token: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Id-tokens påståenden kompletterade med userinfo (Entra ID skickar grupperna bara i id-token)."""
        return {**payload, **super().get_userinfo(access_token, id_token, payload)}

    def get_or_create_user(self, access_token: str, id_token: str, payload: dict[str, Any]) -> Any:
        """Kontot för det stabila id:t, skapat vid första inloggningen, med rollen ur grupperna (annars None)."""
        claims = self.get_userinfo(access_token, id_token, payload)
        subject = str(claims.get(settings.OIDC_STABLE_CLAIM) or "")
        identity = OidcIdentity.objects.select_related("user").filter(subject=subject).first() if subject else None
        role = role_for(claims) if subject else None
        if role is None:
            self._refuse(MISSING_CLAIM if not subject else NO_ROLE, identity.user if identity else None)
            return None
        with transaction.atomic():
            user = identity.user if identity else self._create(claims, subject)
            apply_role(user, role, claims)
        return user

    def _create(self, claims: dict[str, Any], subject: str) -> Any:
        """Nytt personalkonto utan lösenord (det loggar bara in via leverantören) och dess koppling."""
        user = get_user_model().objects.create_user(
            username=_new_username(claims, subject), email=str(claims.get("email") or "")[:254]
        )
        OidcIdentity.objects.create(user=user, subject=subject)
        return user

    def _refuse(self, reason: str, user: Any) -> None:
        """Nekad inloggning: audit-händelse och en markering som återkopplingsvyn visar."""
        setattr(self.request, REFUSAL_ATTRIBUTE, reason)
        record(Action.LOGIN_FAILED, actor=user, status="nekad", reason=reason)


def _require_enabled() -> None:
    """404 när OIDC är av (adresserna finns alltid, men gör ingenting då)."""
    if not oidc_enabled():
        raise Http404


class OidcStartView(OIDCAuthenticationRequestView):
    """Knappen "Logga in med klinikens inloggning": skickar vidare till leverantören (med `next`)."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Läser leverantörens inställningar först när OIDC är på."""
        _require_enabled()
        OIDCAuthenticationRequestView.__init__(self)
        return super().dispatch(request, *args, **kwargs)

    def __init__(self, **kwargs: Any) -> None:
        """Inställningarna läses i `dispatch` (de saknas när OIDC är av)."""
        for key, value in kwargs.items():
            setattr(self, key, value)


class OidcCallbackView(OIDCAuthenticationCallbackView):
    """Leverantören skickar tillbaka hit; misslyckad eller nekad inloggning ger en svensk sida."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """404 när OIDC är av."""
        _require_enabled()
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        """Som mozilla-django-oidc, men en leverantör som inte svarar eller svarar fel ger svensk sida, inte 500."""
        try:
            return super().get(request)
        except (requests.RequestException, SuspiciousOperation):
            logger.warning("Inloggningen via identitetsleverantören misslyckades", exc_info=True)
            return self.login_failure()

    def login_failure(self) -> HttpResponse:
        """Sidan "Inloggningen nekades" (403) i stället för en tyst omdirigering."""
        refused = getattr(self.request, REFUSAL_ATTRIBUTE, None) == NO_ROLE
        return render(self.request, "accounts/oidc_refused.html", {"no_role": refused}, status=403)
