from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied


def moderator_required(view):
    """Logged-in moderators and admins only; others get 403 (the page's existence is no secret)."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_moderator:
            raise PermissionDenied("Moderators only")
        return view(request, *args, **kwargs)

    return wrapper
