"""Portalens två roller.

Personal: alla aktiva konton; får skicka SMS och driva kampanjer.
Administratör: konto med `is_staff` i gruppen "Administratörer" (eller superanvändare).
Gruppens Django-rättigheter nedan ger mallar, användare, audit-loggen, SMS-registret och avböjda förfrågningar; vyerna kräver
rättigheterna, inte gruppnamnet.
"""

from __future__ import annotations

from typing import Any

ADMIN_GROUP = "Administratörer"

# Behörigheter som gruppen "Administratörer" får: (app_label, codename).
ADMIN_PERMISSIONS: list[tuple[str, str]] = [
    ("auth", "add_user"),
    ("auth", "change_user"),
    ("auth", "delete_user"),
    ("auth", "view_user"),
    ("auth", "view_group"),
    ("audit", "view_auditevent"),
    ("smsportal", "view_sendattempt"),
    # Avböjda förfrågningar: se datumen och ta bort ett avböjande när patienten ringer.
    ("campaigns", "view_optout"),
    ("campaigns", "delete_optout"),
    *[
        ("templates_app", f"{verb}_{model}")
        for model in ("category", "messagetemplate")
        for verb in ("add", "change", "delete", "view")
    ],
]


def ensure_admin_group(**kwargs: Any) -> None:
    """Skapar gruppen "Administratörer" och ger den behörigheterna ovan (idempotent).

    Körs efter varje `migrate` (signalen post_migrate), när alla behörigheter finns.
    """
    from django.contrib.auth.models import Group, Permission

    group, _ = Group.objects.get_or_create(name=ADMIN_GROUP)
    for app_label, codename in ADMIN_PERMISSIONS:
        permission = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
        if permission is not None:
            group.permissions.add(permission)
