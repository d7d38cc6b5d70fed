"""Appkonfiguration: Envägs-SMS: sändsidan, kvoten, leverantörerna och SMS-registret."""

from django.apps import AppConfig


class SmsportalConfig(AppConfig):
    """Envägs-SMS: sändsidan, kvoten, leverantörerna och SMS-registret (SMS-textreglerna: common.smstext)."""

    name = "smsportal"
    verbose_name = "SMS-utskick"

    def ready(self) -> None:
        """Kontrollerar leverantörernas inställningar vid start (saknad uppgift stoppar starten);
        byggda leverantörer glöms när inställningarna ändras (tester)."""
        from django.test.signals import setting_changed

        from smsportal import checks  # noqa: F401  (registrerar driftkontrollen)
        from smsportal.sending import forget_backends, get_backends

        setting_changed.connect(forget_backends, dispatch_uid="smsportal-forget-backends")
        get_backends()
