"""Items can be assigned to a moderator or a team; claim next serves one's own items first."""

from django.core.exceptions import PermissionDenied
from django.urls import reverse

from accounts.models import Team
from moderation import selectors, services
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, UserFactory

from .helpers import decided, routed


class AssignmentTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.mod2 = UserFactory(username="mod2", role="moderator")
        self.senior = UserFactory(username="sam", role="senior_moderator")
        self.team = Team.objects.create(name="Elections")
        self.team.members.add(self.mod2)
        self.item = routed(uploader=self.alice, probability=0.95)

    def test_only_seniors_and_admins_assign(self):
        with self.assertRaises(PermissionDenied):
            services.review_item_assign(item_id=self.item.pk, by=self.mod, to_user=self.mod2)

    def test_an_item_assigned_to_a_person_is_theirs(self):
        item = services.review_item_assign(item_id=self.item.pk, by=self.senior, to_user=self.mod2)
        self.assertEqual(item.events.last().note, "to mod2")
        with self.assertRaisesMessage(services.ReviewConflict, "assigned to someone else"):
            services.review_item_claim(item_id=item.pk, moderator=self.mod)
        self.assertEqual(
            services.review_item_claim(item_id=item.pk, moderator=self.mod2).claimed_by, self.mod2
        )

    def test_an_item_assigned_to_a_team_goes_to_its_members(self):
        services.review_item_assign(item_id=self.item.pk, by=self.root, to_team=self.team)
        self.assertIsNone(services.review_item_claim_next(moderator=self.mod))
        self.assertEqual(services.review_item_claim_next(moderator=self.mod2).pk, self.item.pk)

    def test_claim_next_serves_ones_own_assignments_first(self):
        top = routed(uploader=self.alice, probability=0.99)  # higher in the queue's order
        services.review_item_assign(item_id=self.item.pk, by=self.root, to_user=self.mod2)
        self.assertEqual(services.review_item_claim_next(moderator=self.mod2).pk, self.item.pk)
        self.assertEqual(services.review_item_claim_next(moderator=self.mod).pk, top.pk)

    def test_a_senior_assigns_from_the_page_and_the_queue_filters_mine(self):
        self.client.login(username="sam", password=PASSWORD)
        url = reverse("moderation:item_detail", args=[self.item.pk])
        self.assertContains(self.client.get(url), 'id="assign-form"')
        self.client.post(
            reverse("moderation:item_assign", args=[self.item.pk]), {"assigned_to": self.mod2.pk}
        )
        self.client.login(username="mod2", password=PASSWORD)
        page = self.client.get(reverse("moderation:queue"), {"assigned": "me"})
        self.assertContains(page, self.item.short_id)
        self.client.login(username="mod", password=PASSWORD)
        page = self.client.get(url)
        self.assertNotContains(page, 'id="assign-form"')
        self.assertContains(page, "This item is assigned to someone else.")
        self.assertNotContains(page, 'id="claim-button"')
        self.assertNotContains(
            self.client.get(reverse("moderation:queue"), {"assigned": "me"}), self.item.short_id
        )


class AssignmentIsNotADecisionTests(PlatformTestCase):
    def test_assigning_an_escalated_item_is_not_counted_as_an_escalation(self):
        item = decided(routed(uploader=self.alice, probability=0.9), self.mod, "escalate", "policy")
        mod2 = UserFactory(username="mod2", role="moderator")
        services.review_item_assign(item_id=item.pk, by=self.root, to_user=mod2)
        today = selectors.dashboard_decisions_per_day(services.timezone.now())[-1]
        self.assertEqual(today["escalated"], 1)
        self.assertIsNone(item.standing_decision)
