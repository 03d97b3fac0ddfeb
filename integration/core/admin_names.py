"""The admin's own name, as staff read it on every page: the browser tab's title, the header and
the home page's title (Django's defaults are "Django site admin", "Django administration" and
"Site administration", which say nothing of what this console is for).

Written in English and marked, with their French in integration's catalogue (the admin's frame is
integration's: templates/admin/base_site.html). :class:`config.admin_site.PlatformAdminSite` gives
them to every page through ``each_context``, the login page included.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SITE_TITLE = _("Retail integration")  # the end of every page's <title>
SITE_HEADER = _("Retail integration console")  # the header's name, a link to the home page
INDEX_TITLE = _("Home")  # the home page's heading and its <title>
