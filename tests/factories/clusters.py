"""What tests that start platform processes (web, qcluster, shell) give them: the test database as
a DATABASE_URL, so that every process works on the very database the test reads."""

from __future__ import annotations

from urllib.parse import quote

from django.db import connection


def database_url() -> str:
    """The test database (PostgreSQL), as DATABASE_URL for another process."""
    db = connection.settings_dict
    user = quote(str(db["USER"] or ""))
    password = quote(str(db["PASSWORD"] or ""))
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{user}:{password}@{db['HOST']}{port}/{db['NAME']}"
