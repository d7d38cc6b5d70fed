"""Appkonfiguration: Envägs-SMS: sändsidan, kvoten, telefonnummer och SMS-textregler."""

from django.apps import AppConfig


class SmsportalConfig(AppConfig):
    """Envägs-SMS: sändsidan, kvoten, telefonnummer och SMS-textregler."""

    name = "smsportal"
    verbose_name = "SMS-utskick"
