from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Team, User


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "is_active", "is_staff", "last_login")
    list_filter = ("role", "is_active", "is_staff")
    fieldsets = UserAdmin.fieldsets + (
        (
            "Platform",
            {"fields": ("role", "time_zone", "face_only_mode", "review_muted", "notify_by_email")},
        ),
    )
    add_fieldsets = UserAdmin.add_fieldsets + (("Platform", {"fields": ("role",)}),)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name",)
    filter_horizontal = ("members",)
