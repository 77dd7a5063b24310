"""The Sources page (#26): add a recording, a document, a text or a link; follow each live
while Scripe ingests it; a source's page with its transcript preview, topics and hooks, and
"plan N posts" from the hooks ticked.

An upload streams to a temporary file (`sources/uploads.py`; never the whole file in
memory), and a file of a type Scripe refuses or above its cap is dropped while it streams,
with the sentence next to the field. The browser checks the same before sending anything
(static/js/sources.js)."""

from __future__ import annotations

import uuid

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import HttpResponseClientRedirect, HttpResponseClientRefresh

from calendar_app.access import Viewer, slot_visible_to, source_for, viewer_for
from calendar_app.core.refusals import Refusal
from calendar_app.models import Role
from calendar_app.planning import selectors as planning_selectors
from calendar_app.planning.live import live_token, token_read
from calendar_app.sources import selectors, services
from calendar_app.sources.forms import HooksForm, TextForm, UploadForm
from calendar_app.sources.uploads import caps_json, handler_for
from calendar_app.web.answers import done, refused, show_on_form

LIST = "sources/list.html"
DETAIL = "sources/detail.html"


# The upload handler: the temporary-file handler under Scripe's type and size rule.
SourceUploadHandler = handler_for(services.file_type_check)


def _projects(viewer: Viewer):
    return planning_selectors.plannable_projects(viewer)


def _caps() -> str:
    """The browser's copy of the type and size rule (checked again here)."""
    return caps_json(services.ACCEPTED_TYPES)


def _list_context(request: HttpRequest, viewer: Viewer, **forms) -> dict:
    sources = list(selectors.visible_sources(viewer))
    projects = _projects(viewer)
    initial = {}
    if scripe_id := request.GET.get("project"):
        initial["project"] = projects.filter(scripe_id=scripe_id).first()
    slot = request.GET.get("slot") or request.POST.get("slot") or ""
    return {
        "sources": sources,
        "upload_form": forms.get("upload_form") or UploadForm(projects=projects, initial=initial),
        "text_form": forms.get("text_form") or TextForm(projects=projects, initial=initial),
        "caps": _caps(),
        "accept": services.accepted_extensions(),
        "since": live_token(),
        "in_flight": any(s.is_in_flight for s in sources),
        "can_add": bool(viewer.editable_workspace_ids),
        "from_slot": slot,
    }


@login_required
@require_GET
def source_list(request: HttpRequest) -> HttpResponse:
    """The Sources page; with `since`, its live region: 204 when nothing changed."""
    viewer = viewer_for(request)
    if request.htmx and "since" in request.GET:
        since = token_read(request.GET["since"])
        if since is not None and not selectors.sources_changed_since(viewer, since):
            return HttpResponse(status=204)
        return render(request, LIST + "#source-list", _list_context(request, viewer))
    return render(request, LIST, _list_context(request, viewer))


def _from_slot(viewer: Viewer, raw: str):
    """The post a source is added from (only one the viewer sees), or None."""
    try:
        public_id = uuid.UUID(raw)
    except (ValueError, TypeError, AttributeError):
        return None
    return slot_visible_to(viewer, public_id)


def _created(request: HttpRequest, source) -> HttpResponse:
    url = reverse("source", args=[source.public_id])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _form_again(request, viewer, form_name: str, form) -> HttpResponse:
    context = _list_context(request, viewer, **{form_name: form})
    partial = "#upload-form" if form_name == "upload_form" else "#text-form"
    return render(request, LIST + (partial if request.htmx else ""), context)


@csrf_exempt
@login_required
@require_POST
def source_upload(request: HttpRequest) -> HttpResponse:
    """Takes an upload, streamed to a temporary file by `SourceUploadHandler`."""
    # Set before anything reads the body; the CSRF check then runs on the parsed form.
    request.upload_handlers = [SourceUploadHandler(request)]
    return _source_upload(request)


@csrf_protect
def _source_upload(request: HttpRequest) -> HttpResponse:
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        raise Http404(_("No workspace to add sources to."))
    form = UploadForm(request.POST, request.FILES, projects=_projects(viewer))
    handler = request.upload_handlers[0]
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            refusal = handler.refusal
            if refusal is None and upload is None:
                refusal = Refusal(fields={"file": _("Choose a recording or document to upload.")})
            if refusal is not None:
                raise services.source_file_refused(
                    project=form.cleaned_data["project"], refusal=refusal
                )
            source = services.source_create_file(
                user=request.user,
                project=form.cleaned_data["project"],
                name=upload.name,
                size=upload.size,
                temporary_path=upload.temporary_file_path(),
                slot=_from_slot(viewer, request.POST.get("slot", "")),
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
        else:
            return _created(request, source)
    return _form_again(request, viewer, "upload_form", form)


@login_required
@require_POST
def source_add(request: HttpRequest) -> HttpResponse:
    """A text or a link."""
    viewer = viewer_for(request)
    if not viewer.editable_workspace_ids:
        raise Http404(_("No workspace to add sources to."))
    form = TextForm(request.POST, projects=_projects(viewer))
    if form.is_valid():
        data = form.cleaned_data
        slot = _from_slot(viewer, request.POST.get("slot", ""))
        try:
            if data["url"] and data["text"]:
                raise Refusal(fields={"url": _("Give a link or a text, not both.")})
            if data["url"]:
                source = services.source_create_url(
                    user=request.user, project=data["project"], url=data["url"], slot=slot
                )
            else:
                source = services.source_create_text(
                    user=request.user, project=data["project"], text=data["text"], slot=slot
                )
        except Refusal as refusal:
            show_on_form(form, refusal)
        else:
            return _created(request, source)
    return _form_again(request, viewer, "text_form", form)


def _detail_context(viewer: Viewer, source, form=None) -> dict:
    plans = selectors.hook_plans(source)
    ideas = selectors.hook_ideas(source)
    topics = [
        {
            **topic,
            "hooks": [
                {**hook, "plan": plans.get(hook["id"]), "idea": ideas.get(hook["id"])}
                for hook in topic.get("hooks", [])
            ],
        }
        for topic in source.topics
    ]
    return {
        "source": source,
        "topics": topics,
        "planned": len(plans),
        "open_hooks": sum(1 for h in source.hooks if h["id"] not in plans),
        "form": form,
        # A refused form keeps the person's ticks.
        "ticked": set(form.data.getlist("hooks")) if form is not None else set(),
        "since": live_token(),
        "can_plan": viewer.can(Role.EDITOR, source.workspace_id),
    }


@login_required
@require_GET
def source_detail(request: HttpRequest, public_id) -> HttpResponse:
    """A source's page; with `since`, its live card: 204 when it has not changed, and a
    refresh of the whole page once Scripe is done (the topics and hooks arrive)."""
    viewer = viewer_for(request)
    source = source_for(viewer, public_id)
    if request.htmx and "since" in request.GET:
        since = token_read(request.GET["since"])
        if since is not None and source.updated_at <= since:
            return HttpResponse(status=204)
        if not source.is_in_flight:
            return HttpResponseClientRefresh()
        return render(request, DETAIL + "#source-card", _detail_context(viewer, source))
    return render(request, DETAIL, _detail_context(viewer, source))


@login_required
@require_POST
def source_plan(request: HttpRequest, public_id) -> HttpResponse:
    """Plans a post from each hook ticked, at the project's next queue times, or (`to`
    board) puts them on the ideas board, to be dropped on the days the editor chooses."""
    viewer = viewer_for(request)
    source = source_for(viewer, public_id, to=gettext_noop("plan posts from a source"))
    hook_ids = [h["id"] for h in source.hooks]
    form = HooksForm(request.POST, hook_ids=hook_ids)
    url = reverse("source", args=[source.public_id])
    chosen = form.cleaned_data["hooks"] if form.is_valid() else []
    chosen_hooks = {"user": request.user, "source": source, "hook_ids": chosen}
    if not form.is_valid():
        form.add_error("hooks", _("Some of the hooks are not this source's; reload the page."))
    else:
        try:
            if request.POST.get("to") == "board":
                text = _on_board(services.hooks_to_board(**chosen_hooks))
            else:
                text = _planned(services.hooks_plan(**chosen_hooks))
        except Refusal as refusal:
            if refusal.fields:
                show_on_form(form, refusal)
            else:
                return refused(request, refusal, redirect_to=url)
        else:
            if not request.htmx:
                return done(request, text, redirect_to=url)
            context = _detail_context(viewer, source)
            return done(
                request,
                text,
                redirect_to=url,
                response=render(request, DETAIL + "#source-hooks", context),
            )
    context = _detail_context(viewer, source, form)
    return render(request, DETAIL + ("#source-hooks" if request.htmx else ""), context)


def _planned(outcomes) -> str:
    made = sum(o.planned for o in outcomes)
    again = len(outcomes) - made
    text = ngettext(
        "%(count)s post planned at the next queue times.",
        "%(count)s posts planned at the next queue times.",
        made,
    ) % {"count": made}
    if again:
        text += " " + ngettext(
            "%(count)s was planned before.", "%(count)s were planned before.", again
        ) % {"count": again}
    return text


def _on_board(outcome) -> str:
    added = len(outcome.added)
    text = ngettext(
        "%(count)s hook put on the ideas board: drag each onto a day.",
        "%(count)s hooks put on the ideas board: drag each onto a day.",
        added,
    ) % {"count": added}
    if outcome.on_board:
        text += " " + ngettext(
            "%(count)s was there already.", "%(count)s were there already.", outcome.on_board
        ) % {"count": outcome.on_board}
    if outcome.planned:
        text += " " + ngettext(
            "%(count)s is a post already.", "%(count)s are a post already.", outcome.planned
        ) % {"count": outcome.planned}
    return text
