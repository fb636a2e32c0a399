from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD


class LoginTests(PlatformTestCase):
    def test_it_logs_in_with_the_right_password(self):
        response = self.client.post(
            reverse("accounts:login"), {"username": "alice", "password": PASSWORD}
        )
        self.assertRedirects(response, reverse("detection:job_list"))

    def test_it_refuses_a_wrong_password_with_a_clear_error(self):
        response = self.client.post(
            reverse("accounts:login"), {"username": "alice", "password": "wrong password"}
        )
        self.assertContains(response, "Please enter a correct username and password")
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_logging_out_requires_a_post_and_ends_the_session(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get(reverse("accounts:logout")).status_code, 405)
        self.client.post(reverse("accounts:logout"))
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_roles_decide_who_moderates(self):
        self.assertFalse(self.alice.is_moderator)
        self.assertTrue(self.mod.is_moderator)
        self.assertTrue(self.root.is_moderator and self.root.is_platform_admin)
