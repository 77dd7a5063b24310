"""The knowledge pages (#26): a project's knowledge base, and the whole workspace's, each
listing what was added, by whom, its state and cost (live while Scripe indexes), with the
form managers and admins add documents through.

A file streams to a temporary file (the sources' handler, `sources/uploads.py`; never the
whole file in memory), and one of a type a knowledge base does not take, or above Scripe's
cap, is dropped while it streams, with the sentence next to the field. The browser shows the
upload's progress (static/js/sources.js, as on the Sources page)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from calendar_app.access import KnowledgeBase, knowledge_base_for, viewer_for
from calendar_app.core.refusals import Refusal
from calendar_app.knowledge import selectors, services
from calendar_app.knowledge.forms import KnowledgeForm
from calendar_app.models import KnowledgeKind, KnowledgeState, Role
from calendar_app.sources.uploads import caps_json, handler_for
from calendar_app.web.answers import refused, show_on_form

TEMPLATE = "knowledge/page.html"


# The sources' upload handler (sources/uploads.py) under a knowledge base's rule: the types
# a knowledge base takes, within Scripe's cap for each.
KnowledgeUploadHandler = handler_for(
    services.knowledge_file_check, default_cap=services.LARGEST_DOCUMENT
)


def _here(base: KnowledgeBase) -> str:
    if base.project is not None:
        return reverse("project_knowledge", args=[base.project.scripe_id])
    return reverse("workspace_knowledge", args=[base.workspace.public_id])


def _add_url(base: KnowledgeBase) -> str:
    if base.project is not None:
        return reverse("project_knowledge_add", args=[base.project.scripe_id])
    return reverse("workspace_knowledge_add", args=[base.workspace.public_id])


def _context(request: HttpRequest, base: KnowledgeBase, form: KnowledgeForm | None) -> dict:
    documents = list(selectors.knowledge_documents(workspace=base.workspace, project=base.project))
    return {
        "base": base,
        "workspace": base.workspace,
        "project": base.project,
        "documents": documents,
        "indexing": any(d.state == KnowledgeState.INDEXING for d in documents),
        "can_add": base.role in (Role.MANAGER, Role.ADMIN),
        "form": form or KnowledgeForm(),
        "here": _here(base),
        "add_url": _add_url(base),
        "accept": ",".join(services.DOCUMENT_TYPES),
        "caps": caps_json(services.DOCUMENT_TYPES, default_cap=services.LARGEST_DOCUMENT),
    }


def _page(request: HttpRequest, base: KnowledgeBase) -> HttpResponse:
    # The list polls itself (same URL, its partial) while something is indexing.
    partial = "#knowledge-list" if request.htmx else ""
    return render(request, TEMPLATE + partial, _context(request, base, None))


@login_required
@require_GET
def project_knowledge(request: HttpRequest, project_id: str) -> HttpResponse:
    return _page(request, knowledge_base_for(viewer_for(request), project_id=project_id))


@login_required
@require_GET
def workspace_knowledge(request: HttpRequest, workspace_id) -> HttpResponse:
    return _page(request, knowledge_base_for(viewer_for(request), workspace_id=workspace_id))


def _add(request: HttpRequest, base: KnowledgeBase) -> HttpResponse:
    here = _here(base)
    if base.role not in (Role.MANAGER, Role.ADMIN):
        return refused(request, Refusal(_(services.ONLY_MANAGERS), status=403), redirect_to=here)
    form = KnowledgeForm(request.POST, request.FILES)
    handler = request.upload_handlers[0]
    document = None
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["kind"] == KnowledgeKind.FILE:
                if getattr(handler, "refusal", None) is not None:
                    raise handler.refusal
                upload = data["file"]
                if upload is None:
                    raise Refusal(fields={"file": _("Choose a document to upload.")})
                document = services.knowledge_add_file(
                    workspace=base.workspace,
                    project=base.project,
                    name=upload.name,
                    size=upload.size,
                    temporary_path=upload.temporary_file_path(),
                    user=request.user,
                    role=base.role,
                )
            else:
                document = services.knowledge_add(
                    workspace=base.workspace,
                    project=base.project,
                    kind=data["kind"],
                    content=form.content(),
                    name=data["name"],
                    user=request.user,
                    role=base.role,
                )
        except Refusal as refusal:
            show_on_form(form, refusal)
    if document is None:
        # Bad input: the form again, with a sentence next to the field; nothing was saved.
        template = TEMPLATE + ("#knowledge-form" if request.htmx else "")
        return render(request, template, _context(request, base, form))
    message = _("Added “%(name)s”; Scripe is indexing it.") % {"name": document.name}
    if not request.htmx:
        messages.success(request, message)
        return redirect(here)
    # A fresh form, and the list (listening for this event) shows the new document.
    response = render(request, TEMPLATE + "#knowledge-form", _context(request, base, None))
    trigger_client_event(response, "toast", {"message": message})
    return trigger_client_event(response, "knowledge-changed", {})


# The upload handler must be set before anything reads the body, which the CSRF check does:
# so these views are exempt from the middleware's check and make it themselves, after.


@csrf_exempt
@login_required
@require_POST
def project_knowledge_add(request: HttpRequest, project_id: str) -> HttpResponse:
    request.upload_handlers = [KnowledgeUploadHandler(request)]
    return _project_knowledge_add(request, project_id)


@csrf_protect
def _project_knowledge_add(request: HttpRequest, project_id: str) -> HttpResponse:
    return _add(request, knowledge_base_for(viewer_for(request), project_id=project_id))


@csrf_exempt
@login_required
@require_POST
def workspace_knowledge_add(request: HttpRequest, workspace_id) -> HttpResponse:
    request.upload_handlers = [KnowledgeUploadHandler(request)]
    return _workspace_knowledge_add(request, workspace_id)


@csrf_protect
def _workspace_knowledge_add(request: HttpRequest, workspace_id) -> HttpResponse:
    return _add(request, knowledge_base_for(viewer_for(request), workspace_id=workspace_id))
