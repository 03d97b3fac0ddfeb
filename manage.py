#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys

#: Commands that read the models only and sign nothing, so they run without the deployment's secret
#: key (config.settings refuses to start without one): a bare ``manage.py makemigrations --check``,
#: as CI or a hook runs it, says whether models and migrations agree instead of asking for a key.
KEYLESS_COMMANDS = {"makemigrations"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    if len(sys.argv) > 1 and sys.argv[1] in KEYLESS_COMMANDS:
        os.environ.setdefault("DJANGO_SECRET_KEY", "keyless-" + sys.argv[1] + "-signs-nothing-" + "k" * 32)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
