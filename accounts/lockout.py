"""What a locked-out login is answered (django-axes' AXES_LOCKOUT_CALLABLE)."""

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (
        f"Too many failed logins for this account or from this address: try again in "
        f"{minutes} minutes."
    )


def lockout_response(request, original_response=None, credentials=None):
    retry_after = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    if request.path.startswith("/api/"):  # the API's error shape
        response = JsonResponse(
            {"code": "locked_out", "message": lockout_message(), "field_errors": {}}, status=429
        )
    else:
        from django.contrib.auth.forms import AuthenticationForm

        response = render(
            request,
            "accounts/login.html",
            {"form": AuthenticationForm(request), "locked_out": lockout_message()},
            status=429,
        )
    response["Retry-After"] = retry_after
    return response
