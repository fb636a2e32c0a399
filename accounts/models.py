from django.contrib.auth.models import AbstractUser
from django.db import models


class Role(models.TextChoices):
    UPLOADER = "uploader", "Uploader"
    MODERATOR = "moderator", "Moderator"
    ADMIN = "admin", "Admin"


class User(AbstractUser):
    """Our user from day one, so adding fields never needs a swap of the user model."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.UPLOADER)

    @property
    def is_moderator(self) -> bool:
        """Moderators and admins review other people's videos."""
        return self.is_superuser or self.role in (Role.MODERATOR, Role.ADMIN)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN
