"""Queue filters, search and sorting (django-filter)."""

import django_filters
from django import forms
from django.db.models import Q

from detection.models import ModelVersion

from .models import WAITING_STATES, ReviewItem, ReviewState

ISO_DATE = ["%Y-%m-%d"]
ISO_DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
WAITING = "waiting"
ALL = "all"


class ReviewItemFilter(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        label="State",
        method="filter_state",
        empty_label=None,
        choices=[(WAITING, "Waiting for a moderator"), (ALL, "Any state"), *ReviewState.choices],
    )
    model_version = django_filters.ModelChoiceFilter(
        label="Model", queryset=ModelVersion.objects.order_by("name", "version")
    )
    uploader = django_filters.CharFilter(
        label="Uploader", field_name="job__video__uploaded_by__username", lookup_expr="iexact"
    )
    # ISO dates only (a date picker sends them): 06/12 is never silently read as 12 June.
    uploaded_from = django_filters.DateFilter(
        label="Uploaded from",
        field_name="job__created_at",
        lookup_expr="date__gte",
        input_formats=ISO_DATE,
        widget=ISO_DATE_WIDGET,
    )
    uploaded_to = django_filters.DateFilter(
        label="to",
        field_name="job__created_at",
        lookup_expr="date__lte",
        input_formats=ISO_DATE,
        widget=ISO_DATE_WIDGET,
    )
    assigned = django_filters.ChoiceFilter(
        label="Assigned",
        method="filter_assigned",
        choices=[("me", "To me or my team"), ("none", "Unassigned")],
    )
    q = django_filters.CharFilter(label="Search", method="search")
    o = django_filters.OrderingFilter(
        label="Sort",
        empty_label="Priority",
        fields=(
            ("due_at", "due"),
            ("model_score", "score"),
            ("job__created_at", "uploaded"),
            ("job__video__original_name", "name"),
        ),
        field_labels={
            "due_at": "Deadline, soonest first",
            "model_score": "p(fake), lowest first",
            "job__created_at": "Uploaded, oldest first",
            "job__video__original_name": "Name, A–Z",
        },
    )

    class Meta:
        model = ReviewItem
        fields = [
            "state",
            "model_version",
            "uploader",
            "uploaded_from",
            "uploaded_to",
            "assigned",
            "q",
            "o",
        ]

    def filter_assigned(self, queryset, name, value):
        if value == "none":
            return queryset.filter(assigned_to__isnull=True, assigned_team__isnull=True)
        user = getattr(self.request, "user", None)
        if value == "me" and user is not None and user.is_authenticated:
            return queryset.filter(Q(assigned_to=user) | Q(assigned_team__in=user.teams.all()))
        return queryset

    def __init__(self, data=None, *args, **kwargs):
        # No state chosen means the default queue, not "everything".
        data = data.copy() if data is not None else None
        if data is not None and not data.get("state"):
            data["state"] = WAITING
        super().__init__(data, *args, **kwargs)

    def filter_state(self, queryset, name, value):
        if value == ALL:
            return queryset
        if value == WAITING or not value:
            return queryset.filter(state__in=WAITING_STATES)
        return queryset.filter(state=value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = (
            Q(job__video__original_name__icontains=value)
            | Q(job__video__uploaded_by__username__icontains=value)
            | Q(job__video__sha256__istartswith=value)
            | Q(appeal_message__icontains=value)
        )
        if value.isdigit():
            match |= Q(pk=int(value))
        return queryset.filter(match)
