"""API tokens move to drf-knox: each token made before (stored in clear by DRF's authtoken app)
becomes a hashed knox token that expires, so existing clients keep working until then."""
import datetime as dt
import hashlib

from django.conf import settings
from django.db import migrations
from django.utils import timezone

LEGACY_TABLE = "authtoken_token"


def tokens_to_knox(apps, schema_editor):
    connection = schema_editor.connection
    if LEGACY_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT key, user_id FROM {LEGACY_TABLE}")
        rows = cursor.fetchall()
    ttl = getattr(settings, "REST_KNOX", {}).get("TOKEN_TTL") or dt.timedelta(days=90)
    expiry = timezone.now() + ttl
    for key, user_id in rows:  # knox's hash: SHA-512 of the key's characters
        AuthToken(digest=hashlib.sha512(key.encode()).hexdigest(), token_key=key[:15],
                  user_id=user_id, expiry=expiry).save()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LEGACY_TABLE}")  # no key left in clear


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(tokens_to_knox, migrations.RunPython.noop)]
