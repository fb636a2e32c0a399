"""API test case: PlatformTestCase's users, an API client, and helpers to act as one of them."""

from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import api_token_create
from tests.base import PlatformTestCase


class ApiTestCase(PlatformTestCase):
    client_class = APIClient

    def setUp(self):
        super().setUp()
        cache.clear()  # throttle counters

    def as_user(self, user) -> str:
        """Authenticate the client with a new API token of the user's (as an integration
        would); returns its key."""
        key = api_token_create(user=user, replace=False).key
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return key

    def assertError(self, response, status_code: int, code: str):
        """Every error answers the shared shape."""
        self.assertEqual(response.status_code, status_code, response.content)
        body = response.json()
        self.assertEqual(set(body), {"code", "message", "field_errors"})
        self.assertEqual(body["code"], code)
        self.assertTrue(body["message"])
        return body
