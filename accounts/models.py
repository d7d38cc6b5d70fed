"""Personalens reservkoder för tvåstegsverifieringen, sparade bara som hashar.

django-otp:s egen reservkodsenhet (otp_static) sparar koderna i klartext; här sparas varje
kod som HMAC-SHA256 med ett eget slumpat salt. Koderna har 60 bitars slump, så en snabb hash
räcker: de går inte att gissa fram ur en databaskopia, och kontrollen av tio koder tar
mikrosekunder i stället för sekunder (som PBKDF2 per kod skulle ta).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.db import models
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

#: Tecken i reservkoderna: gemener och siffror utan de som förväxlas (i, l, o, 0, 1).
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4
RECOVERY_CODE_COUNT = 10


def normalize_code(text: str) -> str:
    """Koden som den jämförs: gemener, utan mellanslag och bindestreck."""
    return "".join(text.lower().split()).replace("-", "")


def new_recovery_code() -> str:
    """En ny slumpad reservkod i grupper för läsbarhet, t.ex. `k7mq-2xwe-p9ha`."""
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH)) for _ in range(CODE_GROUPS))
    return "-".join(groups)


def hash_code(code: str, salt: str | None = None) -> str:
    """`salt$hmac` för en reservkod (HMAC-SHA256 med ett slumpat salt per kod)."""
    salt = salt or secrets.token_hex(8)
    digest = hmac.new(salt.encode(), normalize_code(code).encode(), hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def code_matches(stored: str, code: str) -> bool:
    """Sant om koden ger samma hash som den sparade (jämförelse i konstant tid)."""
    salt, _, _ = stored.partition("$")
    return hmac.compare_digest(stored, hash_code(code, salt))


class RecoveryCodeDevice(TimestampMixin, ThrottlingMixin, Device):
    """En persons tio reservkoder: var och en fungerar en gång, om telefonen inte finns till hands.

    Koderna visas bara när de skapas. En använd kod tas bort ur listan. Fel koder i följd ger
    en växande väntetid (django-otp:s ThrottlingMixin) utöver django-axes spärr.
    """

    code_hashes = models.JSONField("kodernas hashar", default=list, blank=True)

    class Meta(Device.Meta):
        verbose_name = "reservkoder"
        verbose_name_plural = "reservkoder"

    def set_new_codes(self) -> list[str]:
        """Ersätter alla koder med tio nya och sparar; returnerar klartexten för att visas en gång."""
        codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        self.code_hashes = [hash_code(code) for code in codes]
        self.save()
        return codes

    def verify_token(self, token: str) -> bool:
        """Godtar en oanvänd kod en gång; fel kod räknas mot väntetiden."""
        allowed, _ = self.verify_is_allowed()
        if not allowed:
            return False
        for stored in self.code_hashes:
            if code_matches(stored, token):
                self.code_hashes = [other for other in self.code_hashes if other != stored]
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
                return True
        self.throttle_increment()
        return False

    def get_throttle_factor(self) -> int:
        """Väntetiden efter n fel i följd är 2^(n-1) sekunder (som TOTP-enheten)."""
        return 1

    @property
    def codes_left(self) -> int:
        """Antal oanvända koder."""
        return len(self.code_hashes)


class OidcIdentity(models.Model):
    """Kopplar ett personalkonto till en stabil identitet hos klinikens identitetsleverantör (OIDC).

    Kontot matchas på värdet i OIDC_STABLE_CLAIM (standard `sub`), aldrig på e-postadressen:
    en adress kan bytas eller återanvändas, identitetens id gör det inte.
    """

    user = models.OneToOneField(
        "auth.User", on_delete=models.CASCADE, related_name="oidc_identity", verbose_name="konto"
    )
    subject = models.CharField("identitet hos leverantören", max_length=255, unique=True)
    created_at = models.DateTimeField("skapad", auto_now_add=True)

    class Meta:
        verbose_name = "inloggning via identitetsleverantör"
        verbose_name_plural = "inloggningar via identitetsleverantör"

    def __str__(self) -> str:
        """Kontots användarnamn (identitetens värde visas inte)."""
        return str(self.user)
