import secrets
from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from .models import Role, User


@transaction.atomic
def user_create(
    *, username: str, password: str, role: str = Role.UPLOADER, email: str = ""
) -> User:
    user = User(
        username=username,
        email=email,
        role=role,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    user.full_clean(exclude=["password"])
    validate_password(password, user)
    user.set_password(password)
    user.save()
    return user


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    password: str | None  # None when the account already existed (its password is not shown)


DEMO_USERNAMES = {Role.ADMIN: "admin", Role.MODERATOR: "moderator", Role.UPLOADER: "uploader"}


def demo_accounts_ensure(*, passwords: dict[str, str] | None = None) -> list[DemoAccount]:
    """Create the admin, moderator and uploader demo accounts that do not exist yet.

    Passwords come from `passwords` (by role) or are generated; they are returned once, for
    printing, and never stored in clear.
    """
    passwords = passwords or {}
    accounts = []
    for role, username in DEMO_USERNAMES.items():
        if User.objects.filter(username=username).exists():
            accounts.append(DemoAccount(username=username, role=role, password=None))
            continue
        password = passwords.get(role) or secrets.token_urlsafe(12)
        user_create(
            username=username, password=password, role=role, email=f"{username}@example.com"
        )
        accounts.append(DemoAccount(username=username, role=role, password=password))
    return accounts


# --- API tokens -------------------------------------------------------------------------------


@transaction.atomic
def api_token_create(*, user: User):
    """A new API token for the user; any previous one stops working (one token per user)."""
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user=user).delete()
    return Token.objects.create(user=user)


def api_token_get_or_create(*, user: User):
    """The user's token, creating one if needed (the password login for scripts)."""
    from rest_framework.authtoken.models import Token

    return Token.objects.get_or_create(user=user)[0]


def api_token_revoke(*, user: User) -> bool:
    """Delete the user's token; True if there was one."""
    from rest_framework.authtoken.models import Token

    deleted, _ = Token.objects.filter(user=user).delete()
    return deleted > 0
