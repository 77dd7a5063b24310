from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from calendar_app import services
from calendar_app.access import viewer_for
from calendar_app.forms import ProfileForm
from calendar_app.models import Profile, time_zone_choices
from calendar_app.views.notifications import preferences_form


@login_required
@require_http_methods(["GET", "POST"])
def settings_view(request: HttpRequest) -> HttpResponse:
    profile = Profile.objects.filter(user=request.user).first()
    form = ProfileForm(
        request.POST or None,
        initial={"time_zone": profile.time_zone if profile else ""},
        zones=time_zone_choices(),
    )
    if request.method == "POST" and form.is_valid():
        zone = services.profile_update(user=request.user, time_zone=form.cleaned_data["time_zone"])
        messages.success(request, f"Times are now shown in {zone or 'your workspace’s zone'}.")
        return redirect("settings")
    context = {
        "form": form,
        "zone": viewer_for(request).zone.key,
        "notification_form": preferences_form(request.user),
    }
    return render(request, "calendar_app/settings.html", context)
