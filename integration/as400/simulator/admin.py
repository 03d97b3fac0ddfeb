"""The simulator's page in the Django admin: clock, faults with on/off buttons, sequences, last files.

A custom admin view (no model: the simulator's data is not the platform's), for staff with the
``integration.use_as400_simulator`` permission, in deployments where AS400_SIMULATOR_ADMIN is on
(the embedded setup: bin/run); hooked into an :class:`~django.contrib.admin.AdminSite` by :func:`register_simulator_admin`, which adds
its URL and an "AS400 simulator" entry to the admin index. The view only calls
:class:`integration.as400.simulator.Simulator`; it holds no rule of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.as400.simulator.config import SimulatorConfig
from integration.as400.simulator.engine import Simulator
from integration.as400.simulator.errors import SimulatorError
from integration.as400.simulator.exports import FULL_FILES
from integration.as400.simulator.faults import FAULTS, FaultState
from integration.core.admin_pages import register_admin_page
from integration.core.stored_texts import stored_text_translated

URL_NAME = "as400_simulator"
# Only for those given it (on FileRun: the page writes exchange files), GET and POST alike.
PERMISSION = "integration.use_as400_simulator"
TEMPLATE = "admin/integration/as400_simulator.html"
STEP_CHOICES = (5, 60, 24 * 60)
TITLE = _("AS400 simulator")


def simulator_for_request() -> Simulator:
    """The platform's simulator (paths from the settings)."""
    return Simulator(SimulatorConfig.from_settings())


def simulator_page(site: admin.AdminSite) -> Callable[[HttpRequest], HttpResponse]:
    """The view: GET shows the status, POST performs one action and redirects back."""

    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            _act(request)
            return HttpResponseRedirect(request.path)
        with simulator_for_request() as sim:
            status = sim.status()
        context: dict[str, Any] = {
            **site.each_context(request),
            "title": TITLE,
            "status": status,
            "faults": [(state, FAULTS[state.name]) for state in status.faults],
            "step_choices": STEP_CHOICES,
            "full_files": FULL_FILES,
        }
        return TemplateResponse(request, TEMPLATE, context)

    return view


def _act(request: HttpRequest) -> None:
    data = request.POST
    action = data.get("action", "")
    try:
        with simulator_for_request() as sim:
            if action == "fault_on":
                state = sim.fault_on(
                    data.get("name", ""),
                    value=data.get("value") or None,
                    file=data.get("file") or None,
                    item=data.get("item") or None,
                )
                messages.success(request, fault_said(state))
            elif action == "fault_off":
                messages.success(request, fault_said(sim.fault_off(data.get("name", ""))))
            elif action == "step":
                messages.success(request, sim.step(minutes=_minutes(data.get("minutes", ""))).summary())
            elif action == "import":
                report = sim.import_now()
                if report.ran:
                    messages.success(request, report.summary())
                else:  # why it did not run, in the reader's language
                    messages.warning(request, stored_text_translated(report.summary()))
            elif action == "export_full":
                written = sim.export("full", data.get("file", ""))
                messages.success(request, gettext("Wrote {files}").format(files=", ".join(f.name for f in written)))
            elif action == "seed":
                messages.success(request, stored_text_translated(sim.seed().message))
            else:
                messages.error(request, gettext("Unknown action {action!r}.").format(action=action))
    except SimulatorError as exc:
        messages.error(request, exc.translated())


def fault_said(state: FaultState) -> str:
    """A fault switched on or off, as staff read it (the command line's is ``state.describe()``)."""
    if not state.active:
        return gettext("Fault {name} switched off.").format(name=state.name)
    details = [
        text.format(value=value)
        for text, value in [
            (gettext("value {value}"), state.value), (gettext("file {value}"), state.file),
            (gettext("item {value}"), state.item),
        ]
        if value
    ]  # fmt: skip
    said = gettext("Fault {name} switched on").format(name=state.name)
    if details:
        said += f" ({', '.join(details)})"
    if state.spec.one_shot:
        said += gettext(": it acts once, then switches itself off")
    return said + "."


def _minutes(text: str) -> int:
    try:
        minutes = int(text)
    except ValueError:
        raise SimulatorError(gettext("{text!r} is not a number of minutes").format(text=text)) from None
    if minutes not in STEP_CHOICES:
        raise SimulatorError(
            gettext("step by {choices} minutes from this page").format(choices=", ".join(map(str, STEP_CHOICES)))
        )
    return minutes


def simulator_admin_enabled() -> bool:
    """Whether this deployment has the page: AS400_SIMULATOR_ADMIN (off unless set; bin/run sets it)."""
    return bool(getattr(settings, "AS400_SIMULATOR_ADMIN", False))


def register_simulator_admin(site: admin.AdminSite) -> None:
    """Add the simulator's page to ``site``: its URL, and an entry in the index (once). Where
    AS400_SIMULATOR_ADMIN is off it is not there (404); where on, only for PERMISSION (403)."""
    register_admin_page(
        site, route="as400-simulator/", url_name=URL_NAME, title=TITLE, object_name="AS400Simulator",
        view=simulator_page(site), permission=PERMISSION, can_change=True, enabled=simulator_admin_enabled,
    )  # fmt: skip
