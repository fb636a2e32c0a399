"""Case 6: failed logins lock the account and the client address out (django-axes), on the
login page and the API token endpoint alike; X-Forwarded-For is trusted only behind as many
proxies as DEEPFAKE_PROXY_COUNT says."""

from unittest import mock

from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from tests.base import PlatformTestCase
from tests.factories import PASSWORD

LOGIN = reverse("accounts:login")
TOKEN = reverse("api:token-obtain")


class WebLoginLockoutTests(PlatformTestCase):
    def _login(self, password, username="alice", **extra):
        return self.client.post(LOGIN, {"username": username, "password": password}, **extra)

    def test_25_wrong_passwords_then_the_right_one_is_refused(self):
        statuses = [self._login(f"wrong {n}").status_code for n in range(25)]
        self.assertEqual(statuses[:4], [200] * 4)  # the form again, with its error
        self.assertEqual(set(statuses[4:]), {429})  # the 5th failure locks
        response = self._login(PASSWORD)
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many failed logins", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertTrue(int(response["Retry-After"]) > 0)

    def test_the_account_is_locked_from_any_address(self):
        for n in range(5):
            self._login(f"wrong {n}", REMOTE_ADDR=f"198.51.100.{n + 1}")
        self.assertEqual(self._login(PASSWORD, REMOTE_ADDR="203.0.113.9").status_code, 429)

    def test_the_address_is_locked_for_any_account(self):
        for n in range(5):
            self._login("wrong", username=f"nobody{n}", REMOTE_ADDR="198.51.100.7")
        self.assertEqual(
            self._login(PASSWORD, username="bob", REMOTE_ADDR="198.51.100.7").status_code, 429
        )
        self.assertEqual(
            self._login(PASSWORD, username="bob", REMOTE_ADDR="198.51.100.8").status_code, 302
        )

    def test_a_new_forwarded_for_header_on_each_try_does_not_reset_the_count(self):
        for n in range(5):
            self._login(
                "wrong",
                username=f"nobody{n}",
                REMOTE_ADDR="198.51.100.7",
                HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            )
        response = self._login(
            PASSWORD,
            username="bob",
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR="203.0.113.200",
        )
        self.assertEqual(response.status_code, 429)

    @override_settings(PROXY_COUNT=1)
    def test_behind_one_known_proxy_the_forwarded_address_is_the_client(self):
        for n in range(5):
            self._login(
                "wrong",
                username=f"nobody{n}",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR="203.0.113.50",
            )
        self.assertEqual(
            self._login(
                PASSWORD,
                username="bob",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR="203.0.113.50",
            ).status_code,
            429,
        )
        # Another client behind the same proxy is not locked out; a client's own header in
        # front of the proxy's entry changes nothing.
        self.assertEqual(
            self._login(
                PASSWORD,
                username="bob",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR="203.0.113.51",
            ).status_code,
            302,
        )
        self.client.logout()
        self.assertEqual(
            self._login(
                PASSWORD,
                username="bob",
                REMOTE_ADDR="10.0.0.2",
                HTTP_X_FORWARDED_FOR="1.2.3.4, 203.0.113.50",
            ).status_code,
            429,
        )

    def test_a_successful_login_before_the_limit_resets_the_count(self):
        for n in range(4):
            self._login(f"wrong {n}")
        self.assertEqual(self._login(PASSWORD).status_code, 302)
        self.client.logout()
        for n in range(4):
            self._login(f"wrong {n}")
        self.assertEqual(self._login(PASSWORD).status_code, 302)


class ApiTokenLockoutTests(PlatformTestCase):
    client_class = APIClient

    def _obtain(self, password, **extra):
        return self.client.post(TOKEN, {"username": "alice", "password": password}, **extra)

    def test_the_token_endpoint_locks_out_too_with_the_error_shape(self):
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/min"}):
            statuses = [
                self._obtain(
                    "wrong", REMOTE_ADDR=f"198.51.100.{n}", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
                ).status_code
                for n in range(8)
            ]
            response = self._obtain(PASSWORD, REMOTE_ADDR="198.51.100.99")
        self.assertEqual(statuses[:4], [400] * 4)
        self.assertEqual(set(statuses[4:]), {429})  # the 5th failure locks
        self.assertEqual(response.status_code, 429)
        body = response.json()
        self.assertEqual(body["code"], "locked_out")
        self.assertNotIn("token", body)

    def test_its_throttle_counts_by_address_not_by_forwarded_header(self):
        with mock.patch.object(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min"}):
            statuses = [
                self.client.post(
                    TOKEN,
                    {"username": f"x{n}", "password": "p"},
                    REMOTE_ADDR="198.51.100.1",
                    HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
                ).status_code
                for n in range(4)
            ]
        self.assertEqual(statuses[-1], 429)
