"""API test case: PlatformTestCase's users, an API client, and helpers to act as one of them."""

from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from tests.base import PlatformTestCase


class ApiTestCase(PlatformTestCase):
    client_class = APIClient

    def setUp(self):
        super().setUp()
        cache.clear()  # throttle counters

    def as_user(self, user) -> Token:
        """Authenticate the client with the user's API token (as an integration would)."""
        token, _ = Token.objects.get_or_create(user=user)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return token

    def assertError(self, response, status_code: int, code: str):
        """Every error answers the shared shape."""
        self.assertEqual(response.status_code, status_code, response.content)
        body = response.json()
        self.assertEqual(set(body), {"code", "message", "field_errors"})
        self.assertEqual(body["code"], code)
        self.assertTrue(body["message"])
        return body
