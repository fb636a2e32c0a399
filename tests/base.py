"""A base test case with named users, so permission tests read like sentences."""

from django.test import TestCase

from accounts.models import Role

from .factories import UserFactory


class PlatformTestCase(TestCase):
    def setUp(self):
        super().setUp()
        self.alice = UserFactory(username="alice", role=Role.UPLOADER)  # the uploader
        self.bob = UserFactory(username="bob", role=Role.UPLOADER)  # a stranger to alice's videos
        self.mod = UserFactory(username="mod", role=Role.MODERATOR)
        self.root = UserFactory(username="root", role=Role.ADMIN, is_staff=True, is_superuser=True)
