"""The job page shows the reasons and each branch's score, within what the viewer may see."""

from unittest import mock

from django.test import override_settings
from django.urls import reverse

from detection.pipeline.types import REASON_CODES
from orchestration.jobs import job_run
from tests.base import PlatformTestCase
from tests.factories import PASSWORD, JobFactory, VideoFactory
from tests.pipeline.fused_results import fused_result


class JobPageEvidenceTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        self.job = JobFactory(video=VideoFactory(uploaded_by=self.alice))
        analyser = mock.Mock()
        analyser.analyse.return_value = fused_result(
            [{"frames": list(range(20)), "logits": -4.0}, {"frames": [17, 18, 19], "logits": 6.0}]
        )
        with mock.patch("detection.services.analyser_for_spec", return_value=analyser):
            job_run(job_id=self.job.id)

    def page(self, user):
        self.client.login(username=user.username, password=PASSWORD)
        return self.client.get(reverse("detection:job_detail", args=[self.job.id]))

    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=False)
    def test_an_uploader_allowed_scores_sees_the_reason_branches_and_segment(self):
        page = self.page(self.alice)
        self.assertContains(page, "Why the verdict is uncertain")
        self.assertContains(page, "Person 2, seen in 3 frames only")
        self.assertContains(page, 'id="branch-scores"')
        self.assertContains(page, 'class="segment"')  # the stretch on the timeline

    @override_settings(MODERATION_HIDE_SCORES_FROM_UPLOADERS=True)
    def test_an_uploader_who_may_not_see_scores_gets_the_reason_in_general_words(self):
        page = self.page(self.alice)
        self.assertContains(page, REASON_CODES["brief_fake_person"])
        self.assertNotContains(page, "Person 2, seen in 3 frames only")
        self.assertNotContains(page, 'id="branch-scores"')
