from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from knox.models import AuthToken

from . import services
from .forms import PreferencesForm


@never_cache  # the new key must never sit in a cache (the middleware adds private, no-store)
@login_required
@require_http_methods(["GET", "POST"])
def api_token(request):
    """Create (or replace) and revoke one's API token; the key is shown once, when created."""
    new_token = None
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            new_token = services.api_token_create(user=request.user)
        elif action == "revoke":
            if services.api_token_revoke(user=request.user):
                messages.success(request, "Your API token was revoked; it no longer works.")
            return redirect("accounts:api_token")
        else:
            return render(
                request,
                "accounts/api_token.html",
                {"token": None, "error": "Unknown action."},
                status=400,
            )
    token = AuthToken.objects.filter(user=request.user).order_by("-created").first()
    return render(
        request,
        "accounts/api_token.html",
        {
            "token": token,
            "new_key": new_token.key if new_token else None,
            "new_expiry": new_token.expiry if new_token else None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Time zone, face-only review mode, muted videos, e-mail notifications."""
    form = PreferencesForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "Preferences saved.")
        return redirect("accounts:preferences")
    return render(
        request, "accounts/preferences.html", {"form": form}, status=400 if form.errors else 200
    )
