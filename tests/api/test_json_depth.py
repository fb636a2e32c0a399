"""Case 10: deeply nested JSON is a 400 with the error shape, never a 500."""

from django.urls import reverse

from moderation.services import review_item_route
from tests.factories import done_job

from .base import ApiTestCase


class JsonDepthTests(ApiTestCase):
    def setUp(self):
        super().setUp()
        self.job = done_job(uploader=self.alice)
        review_item_route(job=self.job)
        self.as_user(self.alice)
        self.url = reverse("api:job-appeal", args=[self.job.id])

    def _post_raw(self, body: str):
        return self.client.generic("POST", self.url, body, content_type="application/json")

    def test_json_nested_100000_deep_is_refused_cleanly(self):
        response = self._post_raw("[" * 100_000 + "]" * 100_000)
        body = self.assertError(response, 400, "parse_error")
        self.assertIn("nested", body["message"])

    def test_json_a_little_deeper_than_the_limit_is_refused(self):
        with self.settings(API_JSON_MAX_DEPTH=32):
            response = self._post_raw('{"message": ' + "[" * 40 + "]" * 40 + "}")
        body = self.assertError(response, 400, "parse_error")
        self.assertIn("32", body["message"])

    def test_ordinary_json_is_still_read(self):
        response = self._post_raw('{"message": "That is me."}')
        self.assertNotEqual(response.status_code, 400, response.content)  # 409: not decided yet
