"""Queue filters and search (django-filter)."""

import django_filters
from django.db.models import Q

from detection.models import ModelVersion

from .models import WAITING_STATES, ReviewItem, ReviewState

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
    uploaded_from = django_filters.DateFilter(
        label="Uploaded from", field_name="job__created_at", lookup_expr="date__gte"
    )
    uploaded_to = django_filters.DateFilter(
        label="to", field_name="job__created_at", lookup_expr="date__lte"
    )
    q = django_filters.CharFilter(label="Search", method="search")

    class Meta:
        model = ReviewItem
        fields = ["state", "model_version", "uploader", "uploaded_from", "uploaded_to", "q"]

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
        return queryset.filter(match)
