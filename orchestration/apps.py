from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _schedules_ensure(sender, **kwargs):
    # After every migrate: the side cluster's schedules exist (and follow the settings). This
    # app has no models, so it hooks on django-q2's own post_migrate, once its tables exist.
    if sender.label != "django_q":
        return
    from .reconcile import schedules_ensure

    schedules_ensure()


class OrchestrationConfig(AppConfig):
    """An app only for its schedules and management commands; its models are the other apps'."""

    name = "orchestration"
    verbose_name = "Orchestration"

    def ready(self):
        post_migrate.connect(_schedules_ensure, dispatch_uid="orchestration-schedules")
