"""The knowledge pages (#26): a project's knowledge base, and the whole workspace's, each
listing what was added, by whom, its state and cost (live while Scripe indexes), with the
form managers and admins add documents through."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from calendar_app.access import KnowledgeBase, knowledge_base_for, viewer_for
from calendar_app.core.refusals import Refusal
from calendar_app.knowledge import selectors, services
from calendar_app.knowledge.forms import KnowledgeForm
from calendar_app.models import KnowledgeState, Role
from calendar_app.web.answers import refused, show_on_form

TEMPLATE = "knowledge/page.html"


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
        return refused(request, Refusal(services.ONLY_MANAGERS, status=403), redirect_to=here)
    form = KnowledgeForm(request.POST)
    document = None
    if form.is_valid():
        try:
            document = services.knowledge_add(
                workspace=base.workspace,
                project=base.project,
                kind=form.cleaned_data["kind"],
                content=form.content(),
                name=form.cleaned_data["name"],
                user=request.user,
                role=base.role,
            )
        except Refusal as refusal:
            show_on_form(form, refusal)
    if document is None:
        # Bad input: the form again, with a sentence next to the field; nothing was saved.
        template = TEMPLATE + ("#knowledge-form" if request.htmx else "")
        return render(request, template, _context(request, base, form))
    message = f"Added “{document.name}”; Scripe is indexing it."
    if not request.htmx:
        messages.success(request, message)
        return redirect(here)
    # A fresh form, and the list (listening for this event) shows the new document.
    response = render(request, TEMPLATE + "#knowledge-form", _context(request, base, None))
    trigger_client_event(response, "toast", {"message": message})
    return trigger_client_event(response, "knowledge-changed", {})


@login_required
@require_POST
def project_knowledge_add(request: HttpRequest, project_id: str) -> HttpResponse:
    return _add(request, knowledge_base_for(viewer_for(request), project_id=project_id))


@login_required
@require_POST
def workspace_knowledge_add(request: HttpRequest, workspace_id) -> HttpResponse:
    return _add(request, knowledge_base_for(viewer_for(request), workspace_id=workspace_id))
