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
# drf-knox: only a hash of each token is stored, every token expires (REST_KNOX["TOKEN_TTL"]),
# and the key exists in clear only in the answer that creates it.

API_TOKENS_PER_USER = 10  # scripts that log in on every run: the oldest tokens go first


@dataclass(frozen=True)
class NewApiToken:
    key: str  # shown once, never stored
    expiry: object


@transaction.atomic
def api_token_create(*, user: User, replace: bool = True) -> NewApiToken:
    """A new API token for the user. `replace`: every previous token stops working (the web
    page's one token); otherwise earlier ones keep working until they expire (up to
    API_TOKENS_PER_USER, the oldest revoked first)."""
    from django.utils import timezone
    from knox.models import AuthToken

    tokens = AuthToken.objects.filter(user=user)
    if replace:
        tokens.delete()
    else:
        tokens.filter(expiry__lt=timezone.now()).delete()
        keep = list(
            tokens.order_by("-created").values_list("digest", flat=True)[: API_TOKENS_PER_USER - 1]
        )
        tokens.exclude(digest__in=keep).delete()
    instance, key = AuthToken.objects.create(user=user)
    return NewApiToken(key=key, expiry=instance.expiry)


def api_token_revoke(*, user: User) -> bool:
    """Delete every token of the user; True if there was one."""
    from knox.models import AuthToken

    deleted, _ = AuthToken.objects.filter(user=user).delete()
    return deleted > 0
