"""Tokens made before hashed tokens (DRF's authtoken table, keys in clear) keep working after
the migration, as expiring hashed tokens, and no key is left in clear."""

import importlib

import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

migration = importlib.import_module("accounts.migrations.0002_api_tokens_hashed")


class _Editor:
    connection = connection


def test_a_token_from_before_still_authenticates_and_is_no_longer_in_clear():
    alice = UserFactory(username="alice")
    key = "a" * 40
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created datetime, user_id integer)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) "
            "VALUES (%s, CURRENT_TIMESTAMP, %s)",
            [key, alice.pk],
        )
    migration.tokens_to_knox(apps, _Editor())
    token = AuthToken.objects.get(user=alice)
    assert token.expiry is not None and key not in token.digest
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(reverse("api:me")).json()["username"] == "alice"
