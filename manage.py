#!/usr/bin/env python
"""Djangos kommandoradsverktyg för SMS-portalen."""

import os
import sys


def main() -> None:
    """Kör ett manage.py-kommando med portalens inställningar."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
