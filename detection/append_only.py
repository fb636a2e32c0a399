"""Histories written once and never changed: a model's rows can be added, not edited or deleted,
neither one by one nor by a queryset (the review history, a model version's history)."""

from django.db import models


class AppendOnlyError(Exception):
    """An attempt to edit or delete a row of an append-only history."""


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.model.history_name} is append-only: never updated.")

    def delete(self):
        raise AppendOnlyError(f"{self.model.history_name} is append-only: never deleted.")


class AppendOnlyModel(models.Model):
    """Subclasses set `history_name` ("Review history") and use AppendOnlyQuerySet's manager."""

    history_name = "This history"

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self.history_name} is append-only: never edited.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.history_name} is append-only: never deleted.")
