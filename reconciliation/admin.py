"""The reconciliation's admin pages, in French, for business staff and operations.

- **Rapprochements** (runs): the last run at the top (time, files compared, counts per kind and
  severity, pilot apart, the day's drift) and a chart of the last 30 nights drawn on the server as
  SVG (no CDN, no script); each run's page lists what it found, opened and closed.
- **Écarts** (discrepancies): the open ones first, filterable by kind, severity, state, category,
  pilot and age; each links to its order, product and AS400 file. Staff resolve one or many at
  once (accept the AS400's value, resend, cancel, ignore, reopen): a confirmation page says how
  many and what will happen, and asks for a note. Everything goes through
  ``reconciliation.resolution`` and is recorded (shown on the discrepancy, in its order's history,
  and on the run).
- **Seuils d'alerte**: only operations may change them (``change_threshold``); staff see them.

Resolving takes ``reconciliation.resolve_discrepancy``; viewing, ``view_discrepancy``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from integration.core.admin_pages import NOTE_TEMPLATE, ReadOnlyInline, ReadOnlyModelAdmin
from reconciliation.checks import CHECKS, check_of
from reconciliation.models import Action, Discrepancy, Run, Threshold
from reconciliation.resolution import ResolutionRefused, discrepancies_resolve
from reconciliation.selectors import last_run, nights_series
from reconciliation.services import threshold_save

#: What each action will do, said on its confirmation page.
WHAT = {
    "accept": _("The AS400's value is accepted where it corrects ours (what that does depends on the kind of discrepancy: see \"accept\" below); a discrepancy whose kind has nothing to accept is refused."),
    "resend": _("The order of each discrepancy is sent to the AS400 again under the same web number (it answers D if it had it); its open units count as \"in flight\" again until the next extract."),
    "cancel": _("The order of each discrepancy is cancelled by the cancellation service (ORDANN if the AS400 has it)."),
    "ignore": _("Each discrepancy is ignored with your note; the following nights do not reopen it."),
    "reopen": _("Each discrepancy is open again."),
}
TITLES = {"accept": _("Accept the AS400's value"), "resend": _("Send the order to the AS400 again"),
          "cancel": _("Cancel the order"), "ignore": _("Ignore"), "reopen": _("Reopen")}  # fmt: skip


class ResolveForm(forms.Form):
    note = forms.CharField(
        max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=_("What was seen or decided; kept with your name and the time (required to ignore)."),
    )  # fmt: skip


def _link(name: str, obj: Any, label: str | None = None) -> SafeString | str:
    if obj is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse(f"admin:{name}_change", args=[obj.pk]), label or str(obj)
    )


class AgeFilter(admin.SimpleListFilter):
    title = _("age")
    parameter_name = "age"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("1", gettext("seen one night only")), ("3", gettext("open for 3 nights or more")), ("7", gettext("7 nights or more"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> QuerySet[Discrepancy]:
        value = self.value()
        if value == "1":
            return queryset.filter(nights_open=1)
        if value in ("3", "7"):
            return queryset.filter(nights_open__gte=int(value))
        return queryset


class KindFilter(admin.SimpleListFilter):
    title = _("type")
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(code, str(check.title)) for code, check in CHECKS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> QuerySet[Discrepancy]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


class ActionInline(ReadOnlyInline):
    model = Action
    fields = ("at", "kind", "by", "note", "outcome", "run")
    readonly_fields = fields


@admin.register(Discrepancy)
class DiscrepancyAdmin(ReadOnlyModelAdmin):
    list_display = ("kind_title", "severity", "state", "subject", "ours", "theirs", "pilot", "category",
                    "nights_open", "last_seen_at", "order_link")  # fmt: skip
    list_filter = (KindFilter, "severity", "state", "pilot", "category", AgeFilter)
    search_fields = ("subject", "key", "order__order_number", "product__item_number")
    list_select_related = ("order", "category")
    ordering = ("state", "-last_seen_at", "id")
    inlines = [ActionInline]
    actions = ["accept", "resend", "cancel", "ignore", "reopen"]
    fields = ("kind_title", "severity", "state", "subject", "ours", "theirs", "difference", "units", "amount",
              "suggestion", "accept_means", "order_link", "product_link", "location", "category", "pilot",
              "file_link", "first_seen_at", "last_seen_at", "nights_open", "first_run_link", "last_run_link",
              "closed_at", "closed_by")  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("type"), ordering="kind")
    def kind_title(self, obj: Discrepancy) -> str:
        check = check_of(obj.kind)
        return str(check.title) if check else obj.kind

    @admin.display(description=_("accept the AS400's value"))
    def accept_means(self, obj: Discrepancy) -> str:
        check = check_of(obj.kind)
        return str((check.accept if check else "") or gettext("nothing to accept for this kind"))

    @admin.display(description=_("order"))
    def order_link(self, obj: Discrepancy) -> SafeString | str:
        return _link("orders_order", obj.order)

    @admin.display(description=_("product"))
    def product_link(self, obj: Discrepancy) -> SafeString | str:
        return _link("inventory_product", obj.product)

    @admin.display(description=_("AS400 file"))
    def file_link(self, obj: Discrepancy) -> SafeString | str:
        return _link("integration_filerun", obj.file_run)

    @admin.display(description=_("first reconciliation"))
    def first_run_link(self, obj: Discrepancy) -> SafeString | str:
        return _link("reconciliation_run", obj.first_run)

    @admin.display(description=_("last reconciliation"))
    def last_run_link(self, obj: Discrepancy) -> SafeString | str:
        return _link("reconciliation_run", obj.last_run)

    def has_resolve_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("reconciliation.resolve_discrepancy")

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[Discrepancy], action: str
    ) -> HttpResponse | None:
        form = ResolveForm(request.POST if "apply" in request.POST else None)
        chosen = list(queryset.order_by("pk"))
        if not form.is_valid() or (action == "ignore" and not form.cleaned_data["note"].strip()):
            if form.is_bound and form.is_valid():
                form.add_error("note", gettext("Ignoring a discrepancy needs a note that says why."))
            context = {
                **self.admin_site.each_context(request), "opts": self.opts, "title": TITLES[action],
                "intro": gettext("{count} discrepancy(ies) selected. {what}").format(count=len(chosen), what=WHAT[action]),
                "rows": [(str(d), f"{d.get_state_display()} — {d.ours} / {d.theirs}") for d in chosen],
                "objects": chosen, "form": form, "submit": TITLES[action],
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME, "action_name": action,
                "back": gettext("Back to the discrepancies"),
            }  # fmt: skip
            return TemplateResponse(request, NOTE_TEMPLATE, context)
        try:
            report = discrepancies_resolve(
                discrepancies=chosen, action=action, user=request.user, note=form.cleaned_data["note"]
            )
        except ResolutionRefused as exc:
            messages.error(request, str(exc))
            return None
        for d, outcome in report.done:
            messages.success(request, gettext("{discrepancy}: {outcome}.").format(discrepancy=d, outcome=outcome))
        for d, why in report.refused:
            messages.error(request, gettext("{discrepancy}: refused — {why}").format(discrepancy=d, why=why))
        return None

    @admin.action(description=_("Accept the AS400's value…"), permissions=["resolve"])
    def accept(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        return self._resolve(request, queryset, "accept")

    @admin.action(description=_("Send the order to the AS400 again…"), permissions=["resolve"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        return self._resolve(request, queryset, "resend")

    @admin.action(description=_("Cancel the order…"), permissions=["resolve"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        return self._resolve(request, queryset, "cancel")

    @admin.action(description=_("Ignore (with a note)…"), permissions=["resolve"])
    def ignore(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        return self._resolve(request, queryset, "ignore")

    @admin.action(description=_("Reopen…"), permissions=["resolve"])
    def reopen(self, request: HttpRequest, queryset: QuerySet[Discrepancy]) -> HttpResponse | None:
        return self._resolve(request, queryset, "reopen")


# --- The chart: the last 30 nights, server-rendered SVG -----------------------------------------

WIDTH, HEIGHT, PAD = 720, 180, 28
COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#be185d", "#4b5563"]


def nights_chart(series: list[dict[str, Any]]) -> SafeString:
    """Stacked bars of findings per kind per night, and the day's drift in units as a line."""
    kinds = sorted({k for night in series for k, n in night["kinds"].items() if n})
    top = max([sum(n["kinds"].values()) for n in series] + [1])
    drift_top = max([n["drift"] for n in series] + [1])
    step = (WIDTH - 2 * PAD) / max(len(series), 1)
    label = escape(gettext("Discrepancies of the last 30 nights"))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT + 40}" role="img" '
             f'aria-label="{label}" class="reconciliation-chart">']  # fmt: skip
    parts.append(f'<line x1="{PAD}" y1="{HEIGHT}" x2="{WIDTH - PAD}" y2="{HEIGHT}" stroke="#999"/>')
    points = []
    for i, night in enumerate(series):
        x = PAD + i * step
        y = HEIGHT
        for k, kind in enumerate(kinds):
            n = night["kinds"].get(kind, 0)
            if not n:
                continue
            h = (HEIGHT - PAD) * n / top
            y -= h
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{step - 2:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[k % len(COLOURS)]}"><title>{night["night"]:%d/%m} {kind} : {n}</title></rect>')  # fmt: skip
        if night["run"] is None:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{HEIGHT - 4}" font-size="9" text-anchor="middle" '
                         f'fill="#b91c1c"><title>{night["night"]:%d/%m} : pas de rapprochement</title>×</text>')  # fmt: skip
        points.append(f"{x + step / 2:.1f},{HEIGHT - (HEIGHT - PAD) * night['drift'] / drift_top:.1f}")
        if i % 5 == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT + 14}" font-size="10">{night["night"]:%d/%m}</text>')
    parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#111" stroke-dasharray="4 2"/>')
    legend = [*kinds, gettext("drift (units)")]
    for k, kind in enumerate(legend):
        colour = COLOURS[k % len(COLOURS)] if k < len(kinds) else "#111"
        x = PAD + (k % 4) * 170
        y = HEIGHT + 26 + (k // 4) * 12
        parts.append(f'<rect x="{x}" y="{y - 8}" width="8" height="8" fill="{colour}"/>'
                     f'<text x="{x + 12}" y="{y}" font-size="10">{kind}</text>')  # fmt: skip
    parts.append(
        f'<text x="{PAD}" y="12" font-size="10">max {top} écarts · dérive max {drift_top} unités</text>'
    )
    parts.append("</svg>")
    return mark_safe("".join(parts))


@admin.register(Run)
class RunAdmin(ReadOnlyModelAdmin):
    change_list_template = "admin/reconciliation/run/change_list.html"
    list_display = ("night", "outcome", "found", "opened", "closed", "drift_units", "duration_seconds",
                    "trigger", "started_at", "dry_run")  # fmt: skip
    list_filter = ("outcome", "trigger", "dry_run")
    fields = ("night", "outcome", "trigger", "started_by", "started_at", "finished_at", "duration_seconds",
              "dry_run", "files_compared", "counts_table", "drift_table", "skipped", "found", "opened", "closed",
              "actions_taken", "error")  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("drift (units)"))
    def drift_units(self, obj: Run) -> int:
        return int((obj.drift or {}).get("total", 0))

    @admin.display(description=_("files compared"))
    def files_compared(self, obj: Run) -> SafeString | str:
        if not obj.files:
            return "aucun"
        return format_html_join(
            mark_safe("<br>"), '<a href="{}">{}_{:06d}</a> pris le {}',
            ((reverse("admin:integration_filerun_change", args=[f["file_run"]]), f["file"], f["seq"],
              f["taken_at"]) for f in obj.files),
        )  # fmt: skip

    @admin.display(description=_("by kind"))
    def counts_table(self, obj: Run) -> SafeString | str:
        return counts_html(obj)

    @admin.display(description=_("drift by category"))
    def drift_table(self, obj: Run) -> SafeString | str:
        drift = obj.drift or {}
        if not drift.get("total"):
            return "aucune"
        rows = format_html_join("", "<tr><td>{}</td><td>{}</td></tr>", sorted(drift["categories"].items()))
        return format_html("<p>pilote {} · ouvert {} · total {}</p><table>{}</table>",
                           drift["pilot"], drift["live"], drift["total"], rows)  # fmt: skip

    @admin.display(description=_("checks not run"))
    def skipped(self, obj: Run) -> SafeString | str:
        if not obj.skipped_checks:
            return "aucun"
        return format_html_join(
            mark_safe("<br>"), "{} : {}", ((s.get("check"), s.get("why")) for s in obj.skipped_checks)
        )

    @admin.display(description=_("actions on its discrepancies"))
    def actions_taken(self, obj: Run) -> SafeString | str:
        actions = obj.actions.select_related("discrepancy").order_by("-at")[:50]
        if not actions:
            return "aucune"
        return format_html_join(
            mark_safe("<br>"), '{} — {} par {} : <a href="{}">{}</a>',
            ((f"{a.at:%d/%m %H:%M}", a.get_kind_display(), a.by,
              reverse("admin:reconciliation_discrepancy_change", args=[a.discrepancy_id]), a.discrepancy)
             for a in actions),
        )  # fmt: skip

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        today = timezone.localdate(timezone.now())
        run = last_run()
        series = nights_series(nights=30, today=today)
        open_ = Discrepancy.objects.filter(state=Discrepancy.State.OPEN)
        extra = {
            "last_run": run, "last_run_counts": counts_html(run) if run else "",
            "chart": nights_chart(series),
            "open_count": open_.count(),
            "open_url": reverse("admin:reconciliation_discrepancy_changelist") + "?state__exact=open",
            "stale": run is not None and run.night < today - timedelta(days=1),
        }  # fmt: skip
        return super().changelist_view(request, {**(extra_context or {}), **extra})


def counts_html(run: Run) -> SafeString | str:
    """Per kind: findings per severity, pilot apart from live, units and euros, with a link to them."""
    rows = []
    for kind, c in sorted(run.counts.items(), key=lambda kv: -int(kv[1].get("total", 0))):
        if not c.get("total"):
            continue
        check = check_of(kind)
        url = (
            reverse("admin:reconciliation_discrepancy_changelist")
            + f"?kind={kind}&last_run__id__exact={run.pk}"
        )
        rows.append((url, check.title if check else kind, c.get("total", 0), c.get("high", 0), c.get("medium", 0),
                     c.get("low", 0), c.get("pilot", 0), c.get("live", 0), c.get("units", 0), c.get("amount", 0)))  # fmt: skip
    if not rows:
        return gettext("no discrepancy")
    body = format_html_join(
        "", '<tr><td><a href="{}">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>'
        "<td>{}</td><td>{}</td></tr>", rows,
    )  # fmt: skip
    headers = format_html_join("", "<th>{}</th>", [(h,) for h in (
        gettext("type"), gettext("total"), gettext("high"), gettext("medium"), gettext("low"), gettext("pilot"),
        gettext("live"), gettext("units"), "€",
    )])  # fmt: skip
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", headers, body)


@admin.register(Threshold)
class ThresholdAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Operations set the thresholds (``change_threshold``); others only see them."""

    list_display = ("kind", "max_count", "max_units", "max_amount", "updated_at", "updated_by")
    fields = ("kind", "max_count", "max_units", "max_amount")

    def formfield_for_dbfield(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "kind":
            return forms.ChoiceField(
                choices=[(c, f"{c} — {k.title}") for c, k in CHECKS.items()], label=gettext("type")
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Threshold, form: Any, change: bool) -> None:
        threshold_save(threshold=obj, user=request.user)
