from django.contrib.admin.apps import AdminConfig


class PlatformAdminConfig(AdminConfig):
    """django.contrib.admin, with the project's site as ``admin.site`` (config/admin_site.py)."""

    default_site = "config.admin_site.PlatformAdminSite"
