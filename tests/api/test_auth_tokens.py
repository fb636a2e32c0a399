from django.urls import reverse
from rest_framework.authtoken.models import Token

from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .base import ApiTestCase


class TokenApiTests(ApiTestCase):
    def test_it_exchanges_a_password_for_a_token_that_authenticates(self):
        response = self.client.post(
            reverse("api:token-obtain"), {"username": "alice", "password": PASSWORD}
        )
        self.assertEqual(response.status_code, 200)
        key = response.json()["token"]
        self.assertEqual(Token.objects.get(user=self.alice).key, key)
        self.client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        me = self.client.get(reverse("api:me")).json()
        self.assertEqual(me, {"username": "alice", "role": "uploader", "is_moderator": False})

    def test_it_returns_the_same_token_on_a_second_exchange(self):
        first = self.client.post(
            reverse("api:token-obtain"), {"username": "alice", "password": PASSWORD}
        ).json()["token"]
        second = self.client.post(
            reverse("api:token-obtain"), {"username": "alice", "password": PASSWORD}
        ).json()["token"]
        self.assertEqual(first, second)

    def test_a_wrong_password_gets_the_error_shape_and_no_token(self):
        response = self.client.post(
            reverse("api:token-obtain"), {"username": "alice", "password": "wrong password"}
        )
        body = self.assertError(response, 400, "invalid")
        self.assertIn("Unable to log in", body["message"])
        self.assertFalse(Token.objects.exists())

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
        self.assertFalse(Token.objects.filter(user=self.alice).exists())
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

    def test_it_creates_a_token_and_shows_the_key_once(self):
        self.assertContains(self.client.get(self.url), "You have no API token.")
        response = self.client.post(self.url, {"action": "create"})
        key = Token.objects.get(user=self.alice).key
        self.assertContains(response, key)
        self.assertNotContains(self.client.get(self.url), key)

    def test_replacing_the_token_invalidates_the_old_one(self):
        old = Token.objects.create(user=self.alice).key
        self.client.post(self.url, {"action": "create"})
        new = Token.objects.get(user=self.alice).key
        self.assertNotEqual(old, new)

    def test_it_revokes_the_token(self):
        Token.objects.create(user=self.alice)
        response = self.client.post(self.url, {"action": "revoke"}, follow=True)
        self.assertContains(response, "revoked")
        self.assertFalse(Token.objects.filter(user=self.alice).exists())

    def test_an_unknown_action_is_refused(self):
        self.assertEqual(self.client.post(self.url, {"action": "steal"}).status_code, 400)

    def test_admins_manage_tokens_in_the_admin_site(self):
        Token.objects.create(user=self.bob)
        self.client.login(username="root", password=PASSWORD)
        response = self.client.get(reverse("admin:authtoken_tokenproxy_changelist"))
        self.assertContains(response, "bob")
