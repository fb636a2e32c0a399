"""Webhook models move from the detection app to their own: same tables, new home.

State only (SeparateDatabaseAndState): the tables `detection_webhookevent` and
`detection_webhookdelivery` stay where they are, so an existing database keeps every event and
attempt. detection's 0013 drops the models from detection's state. Queued retries are renamed to
the new task path.
"""
import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

OLD_TASK, NEW_TASK = "detection.tasks.deliver_webhook", "webhooks.tasks.deliver_webhook"


def _move_content_types(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="detection",
                               model__in=["webhookevent", "webhookdelivery"]).update(
        app_label="webhooks")


def _rename_scheduled_retries(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=OLD_TASK).update(func=NEW_TASK)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0018_task_success_index"),
        ("detection", "0012_register_lite0_sbi_v6"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="WebhookEvent",
                    fields=[
                        ("id", models.UUIDField(default=uuid.uuid4, editable=False,
                                                primary_key=True, serialize=False)),
                        ("type", models.CharField(choices=[
                            ("job.finished", "Job finished"),
                            ("job.moderated", "Moderation decision changed the outcome")],
                            max_length=32)),
                        ("url", models.URLField(max_length=2000)),
                        ("payload", models.JSONField()),
                        ("state", models.CharField(choices=[
                            ("pending", "Pending"), ("delivered", "Delivered"),
                            ("failed", "Failed")], db_index=True, default="pending",
                            max_length=16)),
                        ("attempts", models.PositiveSmallIntegerField(default=0)),
                        ("next_attempt_at", models.DateTimeField(blank=True, null=True)),
                        ("created_at", models.DateTimeField(
                            db_index=True, default=django.utils.timezone.now)),
                        ("delivered_at", models.DateTimeField(blank=True, null=True)),
                        ("job", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE,
                            related_name="webhook_events", to="detection.analysisjob")),
                    ],
                    options={"db_table": "detection_webhookevent", "ordering": ["-created_at"]},
                ),
                migrations.CreateModel(
                    name="WebhookDelivery",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True,
                                                   serialize=False, verbose_name="ID")),
                        ("attempt", models.PositiveSmallIntegerField()),
                        ("started_at", models.DateTimeField()),
                        ("finished_at", models.DateTimeField()),
                        ("status_code", models.PositiveSmallIntegerField(blank=True, null=True)),
                        ("error", models.TextField(blank=True)),
                        ("response_excerpt", models.TextField(blank=True)),
                        ("event", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE,
                            related_name="deliveries", to="webhooks.webhookevent")),
                    ],
                    options={
                        "db_table": "detection_webhookdelivery",
                        "ordering": ["event", "attempt"],
                        "constraints": [models.UniqueConstraint(
                            fields=("event", "attempt"), name="unique_webhook_attempt")],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_move_content_types, migrations.RunPython.noop),
        migrations.RunPython(_rename_scheduled_retries, migrations.RunPython.noop),
    ]
