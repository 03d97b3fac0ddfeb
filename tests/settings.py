"""The tests' settings: the project's own (config.settings), for the embedded setup on loopback.

The tests serve plain HTTP to themselves and need a secret key, which production must be given:
both are set in the environment here, before the settings read it, so that every process a test
starts (manage.py dispatchers, clusters, servers) inherits the same ones. A real environment
still wins (``setdefault``).
"""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key-" + "k" * 40)
os.environ.setdefault("DJANGO_HTTPS", "false")
os.environ.setdefault("AS400_SIMULATOR_ADMIN", "true")  # the embedded setup's simulator page, as bin/run
os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"  # what the processes the tests start read

from config.settings import *  # noqa: F403
