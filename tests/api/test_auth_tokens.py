"""API tokens (drf-knox): obtained with a password or on the web page, shown once, stored only
as a hash, expiring, revocable."""

import datetime as dt
import hashlib

from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken

from accounts.services import api_token_create
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .base import ApiTestCase


class TokenApiTests(ApiTestCase):
    def _obtain(self, password=PASSWORD):
        return self.client.post(
            reverse("api:token-obtain"), {"username": "alice", "password": password}
        )

    def test_it_exchanges_a_password_for_a_token_that_authenticates(self):
        response = self._obtain()
        self.assertEqual(response.status_code, 200)
        key = response.json()["token"]
        self.assertIn("no-store", response["Cache-Control"])
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        me = self.client.get(reverse("api:me")).json()
        self.assertEqual(me, {"username": "alice", "role": "uploader", "is_moderator": False})

    def test_the_token_is_stored_only_as_a_hash_and_expires(self):
        body = self._obtain().json()
        token = AuthToken.objects.get(user=self.alice)
        self.assertNotEqual(token.digest, body["token"])
        self.assertEqual(token.digest, hashlib.sha512(body["token"].encode()).hexdigest())
        self.assertFalse(AuthToken.objects.filter(digest__contains=body["token"]).exists())
        self.assertIsNotNone(token.expiry)
        self.assertGreater(token.expiry, timezone.now() + dt.timedelta(days=1))
        self.assertTrue(body["expiry"])

    def test_an_expired_token_is_refused(self):
        key = api_token_create(user=self.alice).key
        AuthToken.objects.filter(user=self.alice).update(
            expiry=timezone.now() - dt.timedelta(seconds=1)
        )
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        self.assertError(self.client.get(reverse("api:me")), 401, "authentication_failed")

    def test_a_second_exchange_gives_a_new_token_and_the_first_keeps_working(self):
        first = self._obtain().json()["token"]
        second = self._obtain().json()["token"]
        self.assertNotEqual(first, second)
        for key in (first, second):
            self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
            self.assertEqual(self.client.get(reverse("api:me")).status_code, 200)

    def test_a_wrong_password_gets_the_error_shape_and_no_token(self):
        response = self._obtain("wrong password")
        body = self.assertError(response, 400, "invalid")
        self.assertIn("Unable to log in", body["message"])
        self.assertFalse(AuthToken.objects.exists())

    def test_an_anonymous_call_is_401_and_says_how_to_authenticate(self):
        response = self.client.get(reverse("api:job-list"))
        self.assertError(response, 401, "not_authenticated")
        self.assertEqual(response["WWW-Authenticate"], "Token")

    def test_an_unknown_token_is_401(self):
        self.client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
        self.assertError(self.client.get(reverse("api:me")), 401, "authentication_failed")

    def test_a_revoked_token_stops_working(self):
        self.as_user(self.alice)
        self.assertEqual(self.client.post(reverse("api:token-revoke")).status_code, 204)
        self.assertFalse(AuthToken.objects.filter(user=self.alice).exists())
        self.assertError(self.client.get(reverse("api:me")), 401, "authentication_failed")

    def test_the_browser_session_authenticates_too(self):
        self.client.login(username="mod", password=PASSWORD)
        me = self.client.get(reverse("api:me")).json()
        self.assertEqual((me["username"], me["is_moderator"]), ("mod", True))


class TokenPageTests(PlatformTestCase):  # the web page: a browser, not the API client
    url = reverse("accounts:api_token")

    def setUp(self):
        super().setUp()
        self.client.login(username="alice", password=PASSWORD)

    def test_it_requires_login(self):
        self.client.logout()
        response = self.client.get(self.url)
        self.assertRedirects(response, f"{reverse('accounts:login')}?next={self.url}")

    def test_it_creates_a_token_and_shows_the_key_once_never_cached(self):
        self.assertContains(self.client.get(self.url), "You have no API token.")
        response = self.client.post(self.url, {"action": "create"})
        key = response.context["new_key"]
        self.assertContains(response, key)
        self.assertIn("no-store", response["Cache-Control"])
        self.assertIn("private", response["Cache-Control"])
        token = AuthToken.objects.get(user=self.alice)
        self.assertEqual(token.digest, hashlib.sha512(key.encode()).hexdigest())
        again = self.client.get(self.url)
        self.assertNotContains(again, key)
        self.assertContains(again, "expiring")

    def test_replacing_the_token_invalidates_the_old_one(self):
        old = api_token_create(user=self.alice).key
        new = self.client.post(self.url, {"action": "create"}).context["new_key"]
        self.assertNotEqual(old, new)
        self.assertEqual(AuthToken.objects.filter(user=self.alice).count(), 1)
        api = self.client_class()
        api.defaults["HTTP_AUTHORIZATION"] = f"Token {old}"
        self.assertEqual(api.get(reverse("api:me")).status_code, 401)

    def test_it_revokes_the_token(self):
        api_token_create(user=self.alice)
        response = self.client.post(self.url, {"action": "revoke"}, follow=True)
        self.assertContains(response, "revoked")
        self.assertFalse(AuthToken.objects.filter(user=self.alice).exists())

    def test_an_unknown_action_is_refused(self):
        self.assertEqual(self.client.post(self.url, {"action": "steal"}).status_code, 400)

    def test_admins_see_tokens_in_the_admin_site_by_hash_only(self):
        key = api_token_create(user=self.bob).key
        self.client.login(username="root", password=PASSWORD)
        response = self.client.get(reverse("admin:knox_authtoken_changelist"))
        self.assertContains(response, "bob")
        self.assertNotContains(response, key)
