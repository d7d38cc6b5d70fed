"""Appkonfiguration för audit-loggen."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    """Audit-loggen: vem gjorde vad och när, aldrig telefonnummer eller meddelandetext."""

    name = "audit"
    verbose_name = "Audit-logg"

    def ready(self) -> None:
        """Kopplar in signalhanterarna för inloggning och spärr."""
        from audit import signals  # noqa: F401
