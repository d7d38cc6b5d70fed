"""Appkonfiguration för det som gäller hela portalen (inte en enskild app)."""

from django.apps import AppConfig


class PortalConfig(AppConfig):
    """Portalens gemensamma delar: databasanslutningar i processer som forkas."""

    name = "config"
    verbose_name = "Portalen"

    def ready(self) -> None:
        """Barnprocesser (django-q2:s arbetare) öppnar egna databaspooler i stället för föräldrans;
        driftkontrollen av nycklarna registreras."""
        from config import checks  # noqa: F401  (registrerar driftkontrollen av nycklarna)
        from config.database import register_fork_handler

        register_fork_handler()
