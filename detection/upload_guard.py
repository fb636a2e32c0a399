"""Refuse an upload before its body is read, and bound it while it is read.

Views marked `bounded_upload` (the web form's view, or an API view class with the attribute)
get, before CSRF or anything else reads the body:
- the web form: an anonymous request is sent to log in, a missing `Content-Length` is 411, an
  announced body over the limit is 413, and an account over its upload rate is 429;
- both: the body is parsed by `LimitedUploadHandler`, which stops at the limit.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render

from . import quotas
from .upload_storage import LimitedUploadHandler

MULTIPART_OVERHEAD_BYTES = 64 * 1024  # the other form fields and part headers


def bounded_upload(view):
    view.bounded_upload = True
    return view


def _is_bounded(view_func) -> bool:
    return bool(
        getattr(view_func, "bounded_upload", False)
        or getattr(getattr(view_func, "cls", None), "bounded_upload", False)
    )


def too_large_message() -> str:
    return f"The file is larger than the {settings.DETECTION_MAX_UPLOAD_BYTES // (1024 * 1024)} MB limit."


def web_refusal(request, message: str, status: int, headers: dict | None = None):
    """The web form's refusal: JSON for its progress-bar script, the form page otherwise."""
    if "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"errors": {"file": [message]}}, status=status)
    else:
        from .forms import UploadForm

        form = UploadForm()
        response = render(
            request, "detection/upload.html", {"form": form, "refusal": message}, status=status
        )
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def announced_length(request) -> int | None:
    try:
        length = int(request.META.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


class UploadGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method != "POST" or not _is_bounded(view_func):
            return None
        is_api = getattr(view_func, "cls", None) is not None
        if not is_api:  # the API authenticates in its view (tokens), before reading the body
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            length = announced_length(request)
            if length is None:
                return web_refusal(
                    request, "The upload must announce its size (Content-Length).", 411
                )
            if length > settings.DETECTION_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES:
                return web_refusal(request, too_large_message(), 413)
            if not quotas.upload_rate_take(user=request.user):
                return web_refusal(
                    request,
                    "Too many uploads in a minute: wait a little.",
                    429,
                    {"Retry-After": str(quotas.upload_rate_retry_after())},
                )
        request.upload_handlers = [
            LimitedUploadHandler(request, limit=settings.DETECTION_MAX_UPLOAD_BYTES)
        ]
        return None
