"""Routing a probability and verdict against a video band, without a job (what a candidate
version's verdict would have routed to)."""

from django.test import SimpleTestCase, override_settings

from moderation.models import ReasonCode, ReviewState
from moderation.services import route_for_score

BAND = (0.427, 0.673)


def route(probability, verdict="fake", band=BAND):
    return route_for_score(probability=probability, verdict=verdict, band=band)


@override_settings(MODERATION_REVIEW_FLOOR=None, MODERATION_NO_FACE_TO_REVIEW=True)
class RouteForScoreTests(SimpleTestCase):
    def test_it_flags_from_the_bands_top(self):
        self.assertEqual(route(0.673), (ReviewState.FLAGGED, ReasonCode.ROUTED_FLAGGED))

    def test_it_sends_the_band_to_review(self):
        for p in (0.427, 0.6, 0.672):
            self.assertEqual(
                route(p, "uncertain"), (ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_UNCERTAIN), p
            )

    def test_it_clears_under_the_band_unless_the_verdict_held_it_back(self):
        self.assertEqual(route(0.4, "real"), (ReviewState.AUTO_CLEARED, ReasonCode.ROUTED_CLEARED))
        self.assertEqual(
            route(0.4, "uncertain"), (ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_UNCERTAIN)
        )

    def test_the_same_score_routes_by_the_band_it_is_given(self):
        self.assertEqual(route(0.6, band=(0.3, 0.55))[0], ReviewState.FLAGGED)
        self.assertEqual(route(0.6, band=BAND)[0], ReviewState.NEEDS_REVIEW)

    @override_settings(MODERATION_REVIEW_FLOOR=0.2)
    def test_the_sites_review_floor_applies(self):
        self.assertEqual(
            route(0.3, "real"), (ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_REVIEW_FLOOR)
        )

    def test_no_face_goes_by_the_no_face_setting(self):
        self.assertEqual(
            route(None, "no_face"), (ReviewState.NEEDS_REVIEW, ReasonCode.ROUTED_NO_FACE)
        )
        with self.settings(MODERATION_NO_FACE_TO_REVIEW=False):
            self.assertEqual(
                route(None, "no_face"), (ReviewState.AUTO_CLEARED, ReasonCode.ROUTED_NO_FACE)
            )
