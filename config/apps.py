"""Appkonfiguration för det som gäller hela portalen (inte en enskild app)."""

from django.apps import AppConfig, apps
from django.contrib.admin.apps import AdminConfig


class PortalConfig(AppConfig):
    """Portalens gemensamma delar: databasanslutningar i processer som forkas, städningens scheman."""

    name = "config"
    verbose_name = "Portalen"

    def ready(self) -> None:
        """Barnprocesser (django-q2:s arbetare) öppnar egna databaspooler i stället för föräldrans;
        driftkontrollen av nycklarna registreras; städningens scheman läggs in efter varje migrate."""
        from django.db.models.signals import post_migrate

        from config import checks  # noqa: F401  (registrerar driftkontrollen av nycklarna)
        from config.database import register_fork_handler
        from config.schedules import register_housekeeping

        register_fork_handler()
        # Portalen har inga egna modeller (och får ingen post_migrate): scheman efter django-q2:s.
        post_migrate.connect(
            register_housekeeping, sender=apps.get_app_config("django_q"), dispatch_uid="config_housekeeping"
        )


class PortalAdminConfig(AdminConfig):
    """Django admin med portalens adminsajt (config.admin_site) som standardsajt."""

    default_site = "config.admin_site.PortalAdminSite"
