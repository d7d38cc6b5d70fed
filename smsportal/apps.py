"""Appkonfiguration: Envägs-SMS: sändsidan, kvoten, telefonnummer och SMS-textregler."""

from django.apps import AppConfig


class SmsportalConfig(AppConfig):
    """Envägs-SMS: sändsidan, kvoten, telefonnummer och SMS-textregler."""

    name = "smsportal"
    verbose_name = "SMS-utskick"

    def ready(self) -> None:
        """Kontrollerar leverantörernas inställningar vid start (saknad uppgift stoppar starten)."""
        from smsportal import checks  # noqa: F401  (registrerar driftkontrollen)
        from smsportal.sending import get_backends

        get_backends()
