"""Appkonfiguration för inloggning, sessioner och roller."""

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Personalens konton: inloggning, utloggning, sessionstid, roller."""

    name = "accounts"
    verbose_name = "Konton"

    def ready(self) -> None:
        """Administratörsgruppen efter varje migrering; sessionens klocka startar vid inloggning."""
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_migrate

        from accounts.roles import ensure_admin_group
        from accounts.sessions import start_clock

        post_migrate.connect(ensure_admin_group, dispatch_uid="accounts.ensure_admin_group")
        user_logged_in.connect(start_clock, dispatch_uid="accounts.start_clock")
