"""CSV exports of the queue and of decisions; search, sorting, ISO dates and short ids."""

import csv
import io

from django.urls import reverse

from tests.base import PlatformTestCase
from tests.factories import PASSWORD

from .helpers import decided, routed


def rows(response) -> list[list[str]]:
    return list(
        csv.reader(
            io.StringIO(
                b"".join(response.streaming_content).decode()
                if response.streaming
                else response.content.decode()
            )
        )
    )


class ExportTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.client.login(username="mod", password=PASSWORD)

    def test_the_queue_exports_as_filtered(self):
        a = routed(uploader=self.alice, probability=0.95)
        routed(uploader=self.bob, probability=0.9)
        response = self.client.get(reverse("moderation:export_queue"), {"uploader": "alice"})
        self.assertEqual(response["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("attachment;", response["Content-Disposition"])
        table = rows(response)
        self.assertEqual(table[0][:4], ["item", "file_id", "video", "state"])
        self.assertEqual([r[0] for r in table[1:]], [str(a.pk)])
        self.assertEqual(table[1][1], a.short_id)

    def test_decisions_export_one_row_each_and_no_formulas(self):
        item = routed(uploader=self.alice, probability=0.95)
        video = item.job.video
        video.original_name = "=HYPERLINK(evil).mp4"
        video.save()
        decided(item, self.mod, "fake")
        table = rows(self.client.get(reverse("moderation:export_decisions")))
        self.assertEqual(len(table), 2)
        self.assertEqual(table[1][3], "'=HYPERLINK(evil).mp4")
        self.assertEqual(
            (table[1][4], table[1][6], table[1][7]), ("mod", "confirmed_fake", "artefacts")
        )
        self.assertEqual(
            self.client.get(
                reverse("moderation:export_decisions"), {"from": "06/12/2026"}
            ).status_code,
            400,
        )

    def test_uploaders_cannot_export(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self.client.get(reverse("moderation:export_queue")).status_code, 403)


class ListTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.client.login(username="mod", password=PASSWORD)

    def test_dates_are_iso_only_with_a_date_picker(self):
        page = self.client.get(reverse("moderation:queue"), {"uploaded_from": "06/12/2026"})
        self.assertContains(page, "Enter a valid date")
        self.assertContains(page, 'type="date" name="uploaded_from"')
        self.assertNotContains(
            self.client.get(reverse("moderation:queue"), {"uploaded_from": "2026-12-06"}),
            "Enter a valid date",
        )

    def test_the_queue_sorts_and_shows_short_ids(self):
        a = routed(uploader=self.alice, probability=0.95)
        b = routed(uploader=self.alice, probability=0.9)
        page = self.client.get(reverse("moderation:queue"), {"o": "score"}).content.decode()
        row = 'name="items" value="{}"'.format
        self.assertLess(page.index(row(b.pk)), page.index(row(a.pk)))
        page = self.client.get(reverse("moderation:queue"), {"o": "-score"}).content.decode()
        self.assertLess(page.index(row(a.pk)), page.index(row(b.pk)))
        self.assertIn(f"#{a.short_id}", page)

    def test_all_videos_has_search_sorting_and_short_ids(self):
        one = routed(uploader=self.alice, probability=0.95).job.video
        two = routed(uploader=self.bob, probability=0.2).job.video
        two.original_name = "interview.mp4"
        two.sha256 = "ab" * 32
        two.save()
        page = self.client.get(reverse("detection:job_list"), {"q": "interview"})
        self.assertContains(page, "interview.mp4")
        self.assertNotContains(page, one.original_name)
        self.assertContains(page, "#abababab")
        page = self.client.get(reverse("detection:job_list"), {"o": "name"}).content.decode()
        self.assertLess(page.index(one.original_name), page.index("interview.mp4"))
        page = self.client.get(reverse("detection:job_list"), {"o": "-name"}).content.decode()
        self.assertLess(page.index("interview.mp4"), page.index(one.original_name))
