"""Tvåstegsverifiering för personalen: lösenord först, sedan en engångskod (TOTP) eller reservkod.

Efter rätt lösenord är sessionen fortfarande anonym: den bär bara ett väntande steg (vem,
vart hon ska sedan, när lösenordet godtogs). Först när koden godtagits loggas personen in med
Djangos `login()` och django-otp:s enhet sparas i sessionen. Därför når en session med bara
lösenord ingenting som kräver inloggning, och django-axes räkning nollställs (och
inloggningen loggas) först när båda stegen är klara. En inloggad session som saknar
bekräftad enhet när den krävs (slogs på efter inloggningen, enheten nollställdes) godtas
varken av middleware (HTTP) eller av websocketen: `session_is_verified` är regeln för båda.
"""

from __future__ import annotations

import base64
import math
import time
from dataclasses import dataclass
from typing import Any

import django_otp
import qrcode
import qrcode.image.svg
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth.signals import user_login_failed
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.models import Device, VerifyNotAllowed
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RecoveryCodeDevice, normalize_code
from audit.models import Action, AuditEvent
from audit.services import record

#: Så länge det väntande steget gäller efter lösenordet (aktiveringen tar en stund).
PENDING_SECONDS = 10 * 60
PENDING_KEY = "mfa_pending"
TOTP_NAME = "Autentiseringsapp"
RECOVERY_NAME = "Reservkoder"


def mfa_required() -> bool:
    """Sant när varje personalkonto måste ha en andra faktor (STAFF_MFA_REQUIRED)."""
    return bool(settings.STAFF_MFA_REQUIRED)


def session_is_verified(session: SessionBase) -> bool:
    """Sant om en andra faktor inte krävs, eller sessionen bär en bekräftad enhet som hör till sessionens användare.

    Samma regel för HTTP (`accounts.middleware.SecondFactorMiddleware`) och websockets
    (`campaigns.consumers.session_still_valid`). Läser sessionen utan att ändra den.
    """
    if not mfa_required() or _signed_in_through_idp(session):
        return True
    persistent_id = session.get(DEVICE_ID_SESSION_KEY)
    device = Device.from_persistent_id(persistent_id) if persistent_id else None
    return device is not None and device.confirmed and str(device.user_id) == str(session.get(SESSION_KEY, ""))


def _signed_in_through_idp(session: SessionBase) -> bool:
    """Sant för en session inloggad via klinikens identitetsleverantör, som då äger den andra faktorn.

    Django sparar den backend som godtog inloggningen i sessionen (BACKEND_SESSION_KEY); bara
    `accounts.oidc.PortalOIDCBackend`, efter en kod från leverantören, ger den. Gäller bara
    så länge OIDC är påslaget.
    """
    from accounts import oidc

    return oidc.oidc_enabled() and session.get(BACKEND_SESSION_KEY) == oidc.BACKEND_PATH


# --- Enheter ------------------------------------------------------------------------------


def confirmed_totp(user: Any) -> TOTPDevice | None:
    """Personens bekräftade autentiseringsapp, om den finns."""
    return TOTPDevice.objects.devices_for_user(user, confirmed=True).first()


def second_step_needed(user: Any) -> bool:
    """Kod efter lösenordet: alltid för konton med app, och för alla när STAFF_MFA_REQUIRED är på."""
    return mfa_required() or confirmed_totp(user) is not None


def enrolment_device(request: HttpRequest, user: Any) -> TOTPDevice:
    """Den obekräftade appen som aktiveringen visar: samma nyckel om sidan laddas om i samma
    inloggning, men en ny nyckel för varje ny inloggning med lösenordet.

    Nyckeln hör till det väntande steget i sessionen, inte bara till kontot: den som bara känner
    lösenordet och kopierar en nyckel från aktiveringssidan får aldrig en nyckel som personen
    själv sedan bekräftar i en annan inloggning.
    """
    state = request.session.get(PENDING_KEY, {})
    device = TOTPDevice.objects.filter(pk=state.get("enrol_device"), user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)
        request.session[PENDING_KEY] = {**state, "enrol_device": device.pk}
    return device


def reset_devices(user: Any) -> int:
    """Tar bort personens app och reservkoder (nästa inloggning börjar med en ny aktivering)."""
    removed, _ = TOTPDevice.objects.filter(user=user).delete()
    recovery, _ = RecoveryCodeDevice.objects.filter(user=user).delete()
    return removed + recovery


@transaction.atomic
def confirm_enrolment(device: TOTPDevice) -> list[str]:
    """Bekräftar appen, tar bort äldre enheter och skapar tio nya reservkoder (klartext en gång)."""
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    recovery, _ = RecoveryCodeDevice.objects.get_or_create(user=device.user, defaults={"name": RECOVERY_NAME})
    record(Action.MFA_ENROLLED, actor=device.user, status="ok")
    return recovery.set_new_codes()


def setup_details(device: TOTPDevice) -> dict[str, str]:
    """Det aktiveringssidan visar: QR-kod (SVG som data-URI), nyckeln i grupper, utfärdare och konto."""
    secret = base64.b32encode(device.bin_key).decode()
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.to_string(encoding="unicode").encode()
    return {
        "qr_data_uri": "data:image/svg+xml;base64," + base64.b64encode(svg).decode(),
        "secret_groups": " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)),
        "issuer": settings.OTP_TOTP_ISSUER,
        "account": device.user.get_username(),
    }


# --- Kontroll av en kod -------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCheck:
    """Utfallet av en inskriven kod: enheten som godtog den, eller varför den inte godtogs."""

    device: Device | None = None
    wait_seconds: int = 0

    @property
    def ok(self) -> bool:
        """Sant när koden godtogs."""
        return self.device is not None


def _device_for(user: Any, code: str) -> Device | None:
    """Sex siffror prövas mot appen, allt annat mot reservkoderna."""
    if code.isdigit() and len(code) == 6:
        return confirmed_totp(user)
    return RecoveryCodeDevice.objects.devices_for_user(user, confirmed=True).first()


def _wait_seconds(device: Device) -> int:
    """Sekunder kvar av väntetiden efter fel i följd (0 = kontroll tillåten)."""
    allowed, data = device.verify_is_allowed()
    if allowed or not data or data.get("reason") != VerifyNotAllowed.N_FAILED_ATTEMPTS:
        return 0
    locked_until = data.get("locked_until")
    return max(1, math.ceil((locked_until.timestamp() if locked_until else time.time()) - time.time()))


def check_code(user: Any, code: str) -> CodeCheck:
    """Prövar koden mot rätt enhet (i en transaktion: samma kod godtas aldrig två gånger samtidigt)."""
    code = normalize_code(code)
    device = _device_for(user, code)
    if device is None:
        return CodeCheck()
    wait = _wait_seconds(device)
    if wait:
        return CodeCheck(wait_seconds=wait)
    return CodeCheck(device=django_otp.verify_token(user, device.persistent_id, code))


def check_enrolment_code(device: TOTPDevice, code: str) -> CodeCheck:
    """Prövar koden mot den obekräftade appen under aktiveringen."""
    wait = _wait_seconds(device)
    if wait:
        return CodeCheck(wait_seconds=wait)
    with transaction.atomic():
        locked = TOTPDevice.objects.select_for_update().get(pk=device.pk)
        return CodeCheck(device=locked if locked.verify_token(normalize_code(code)) else None)


# --- Det väntande steget efter lösenordet ----------------------------------------------------


@dataclass(frozen=True)
class PendingLogin:
    """En person som angett rätt lösenord men ännu inte koden."""

    user: Any
    backend: str
    next_url: str


def start_pending(request: HttpRequest, user: Any, next_url: str) -> None:
    """Sparar det väntande steget i (den fortfarande anonyma) sessionen."""
    request.session[PENDING_KEY] = {
        "user_id": user.pk,
        "backend": user.backend,
        "auth_hash": user.get_session_auth_hash(),
        "next": next_url,
        "since": time.time(),
    }


def pending_next_url(request: HttpRequest) -> str:
    """Adressen som inloggningen ska leda till, även om steget gått ut (annars tomt)."""
    return str(request.session.get(PENDING_KEY, {}).get("next", ""))


def pending_login(request: HttpRequest) -> PendingLogin | None:
    """Det väntande steget, om det finns, inte gått ut och kontot är aktivt med samma lösenord."""
    state = request.session.get(PENDING_KEY)
    if not state or time.time() - float(state.get("since", 0)) > PENDING_SECONDS:
        return None
    user = get_user_model().objects.filter(pk=state.get("user_id"), is_active=True).first()
    if user is None or not constant_time_compare(state.get("auth_hash", ""), user.get_session_auth_hash()):
        return None
    return PendingLogin(user=user, backend=state["backend"], next_url=state["next"])


def clear_pending(request: HttpRequest) -> None:
    """Glömmer det väntande steget."""
    request.session.pop(PENDING_KEY, None)


def complete_login(request: HttpRequest, pending: PendingLogin, device: Device) -> None:
    """Loggar in personen (ny sessionsnyckel, audit, axes nollställs) och sparar enheten i sessionen."""
    clear_pending(request)
    auth_login(request, pending.user, backend=pending.backend)
    django_otp.login(request, device)


# --- Fel kod och spärr -------------------------------------------------------------------------


def _credentials(user: Any) -> dict[str, str]:
    """Uppgifterna som django-axes räknar försöken på (användarnamnet; IP-adressen tar den ur begäran)."""
    return {"username": user.get_username()}


def lockout_response(request: HttpRequest, user: Any) -> HttpResponse | None:
    """Spärrsidan om kontot är spärrat från den här adressen (det väntande steget glöms då)."""
    credentials = _credentials(user)
    if not AxesProxyHandler.is_locked(request, credentials):
        return None
    clear_pending(request)
    return get_lockout_response(request, None, credentials)


def record_failure(request: HttpRequest, user: Any, reason: str) -> None:
    """Fel kod: audit-händelse och ett misslyckat försök hos django-axes (samma spärr som lösenordet).

    Blir kontot spärrat byter axes middleware svaret mot spärrsidan; steget glöms.
    """
    record(Action.MFA_FAILED, actor=user, status="fel kod", reason=reason)
    user_login_failed.send(sender=__name__, credentials=_credentials(user), request=request, second_factor=True)
    if getattr(request, "axes_locked_out", False):
        clear_pending(request)


def record_success(user: Any, device: Device) -> AuditEvent | None:
    """Audit för en inloggning med reservkod (själva inloggningen loggas av signalen user_logged_in)."""
    if not isinstance(device, RecoveryCodeDevice):
        return None
    return record(Action.RECOVERY_CODE_USED, actor=user, status="ok", data={"kvar": device.codes_left})
