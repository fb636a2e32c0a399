from django.urls import reverse

from detection.append_only import AppendOnlyError
from moderation.models import ReviewEvent
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


class AppendOnlyHistoryTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.item = decided(routed(uploader=self.alice, probability=0.8), self.mod, "fake")
        self.event = self.item.events.last()

    def test_every_state_change_is_one_event_in_order(self):
        changes = list(self.item.events.values_list("from_state", "to_state", "actor__username"))
        self.assertEqual(changes, [("", "flagged", None), ("flagged", "confirmed_fake", "mod")])

    def test_an_event_cannot_be_edited(self):
        self.event.note = "rewritten"
        with self.assertRaises(AppendOnlyError):
            self.event.save()
        with self.assertRaises(AppendOnlyError):
            ReviewEvent.objects.filter(pk=self.event.pk).update(note="rewritten")
        self.assertEqual(ReviewEvent.objects.get(pk=self.event.pk).note, "")

    def test_an_event_cannot_be_deleted(self):
        with self.assertRaises(AppendOnlyError):
            self.event.delete()
        with self.assertRaises(AppendOnlyError):
            ReviewEvent.objects.all().delete()
        self.assertEqual(ReviewEvent.objects.count(), 2)

    def test_the_admin_site_shows_the_history_read_only(self):
        self.client.login(username="root", password=PASSWORD)
        change = reverse("admin:moderation_reviewevent_change", args=[self.event.pk])
        page = self.client.get(change)
        self.assertContains(page, "confirmed_fake")
        self.assertNotContains(page, 'name="note"')  # shown as text, not as a field
        self.client.post(change, {"note": "rewritten"})
        self.assertEqual(ReviewEvent.objects.get(pk=self.event.pk).note, "")
        self.assertEqual(
            self.client.get(reverse("admin:moderation_reviewevent_add")).status_code, 403
        )
        delete = reverse("admin:moderation_reviewevent_delete", args=[self.event.pk])
        self.assertEqual(self.client.post(delete, {"post": "yes"}).status_code, 403)
        item_page = self.client.get(
            reverse("admin:moderation_reviewitem_change", args=[self.item.pk])
        )
        self.assertContains(item_page, "Visible blending")  # the inline history, by reason
        self.assertEqual(
            self.client.get(reverse("admin:moderation_reviewevent_changelist")).status_code, 200
        )
