import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models


class Role(models.TextChoices):
    UPLOADER = "uploader", "Uploader"
    MODERATOR = "moderator", "Moderator"
    SENIOR_MODERATOR = "senior_moderator", "Senior moderator"
    ADMIN = "admin", "Admin"


class FaceOnlyMode(models.TextChoices):
    """How the evidence page shows the video frame: the face crops always stay sharp."""

    OFF = "off", "Show the video as it is"
    BLUR = "blur", "Blur the frame (face crops sharp)"
    GREYSCALE = "greyscale", "Greyscale the frame (face crops sharp)"


def validate_timezone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"Unknown time zone {value!r} (use a name such as Europe/Paris).")


def timezone_choices() -> list[tuple[str, str]]:
    return [
        (name, name)
        for name in sorted(zoneinfo.available_timezones())
        if "/" in name or name == "UTC"
    ]


class User(AbstractUser):
    """Our user from day one, so adding fields never needs a swap of the user model."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.UPLOADER)
    # Preferences (the "Preferences" page).
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="Times are shown in this zone, with its name.",
    )
    face_only_mode = models.CharField(
        max_length=12, choices=FaceOnlyMode.choices, default=FaceOnlyMode.OFF
    )
    review_muted = models.BooleanField(default=True, help_text="Start review videos muted.")
    notify_by_email = models.BooleanField(
        default=True, help_text="Moderators: e-mail me new flags, appeals and missed deadlines."
    )

    @property
    def is_moderator(self) -> bool:
        """Moderators, senior moderators and admins review other people's videos."""
        return self.is_superuser or self.role in (Role.MODERATOR, Role.SENIOR_MODERATOR, Role.ADMIN)

    @property
    def is_senior_moderator(self) -> bool:
        """Senior moderators (and admins) receive escalations and assign work."""
        return self.is_superuser or self.role in (Role.SENIOR_MODERATOR, Role.ADMIN)

    @property
    def is_platform_admin(self) -> bool:
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def short_id(self) -> str:
        return f"u{self.pk}"


class Team(models.Model):
    """A group of moderators that review items can be assigned to."""

    name = models.CharField(max_length=80, unique=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name
