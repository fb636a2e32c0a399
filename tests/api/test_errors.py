from unittest import mock

from django.test import Client, override_settings
from django.urls import reverse

from .base import ApiTestCase


class ErrorShapeTests(ApiTestCase):
    def test_an_unmatched_api_url_answers_the_json_shape(self):
        self.as_user(self.alice)
        self.assertError(self.client.get("/api/v1/jobs/not-a-uuid/"), 404, "not_found")
        self.assertError(self.client.get("/api/v1/nothing-here/"), 404, "not_found")

    def test_pages_outside_the_api_keep_the_html_404(self):
        response = Client().get("/videos/nothing-here/")
        self.assertEqual(response.status_code, 404)
        self.assertIn("text/html", response["Content-Type"])

    def test_a_wrong_method_is_405(self):
        self.as_user(self.alice)
        self.assertError(self.client.delete(reverse("api:job-list")), 405, "method_not_allowed")

    def test_malformed_json_is_a_parse_error(self):
        response = self.client.post(
            reverse("api:token-obtain"), data="{not json", content_type="application/json"
        )
        self.assertError(response, 400, "parse_error")

    def test_missing_fields_are_listed_per_field(self):
        body = self.assertError(self.client.post(reverse("api:token-obtain"), {}), 400, "invalid")
        self.assertEqual(set(body["field_errors"]), {"username", "password"})
        self.assertEqual(body["field_errors"]["username"], ["This field is required."])

    @override_settings(DEBUG_PROPAGATE_EXCEPTIONS=False)
    def test_an_unexpected_error_is_a_json_500_without_details(self):
        self.as_user(self.alice)
        self.client.raise_request_exception = False
        with mock.patch(
            "detection.api.selectors.jobs_visible_to", side_effect=RuntimeError("secret internals")
        ):
            response = self.client.get(reverse("api:job-list"))
        body = self.assertError(response, 500, "server_error")
        self.assertNotIn("secret", body["message"])
