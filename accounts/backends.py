"""Authentication backends."""

from axes.backends import AxesStandaloneBackend


class LoginLockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check, before any password is checked.

    Every login from the network (the login page, the API token endpoint) passes its request
    and is counted. A call without a request (Django's test client `login`, code logging a
    known user in) is not a guess from the network: it is left to the password backend.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
