"""The worker's pipeline settings come from the environment-driven settings."""

from django.test import SimpleTestCase, override_settings

from detection.model_cache import analysis_config


class AnalysisSettingsTests(SimpleTestCase):
    @override_settings(
        DETECTION_FRAMES_TO_SAMPLE=24,
        DETECTION_MAX_DURATION_S=120.0,
        DETECTION_FACE_DETECTOR="haar",
        DETECTION_FULL_LOOK_EVERY=1,
    )
    def test_the_worker_samples_and_searches_as_configured(self):
        config = analysis_config()
        self.assertEqual(
            (
                config.frames_to_sample,
                config.max_duration_s,
                config.face_detector,
                config.full_look_every,
            ),
            (24, 120.0, "haar", 1),
        )

    def test_by_default_whole_frames_are_searched_every_fourth_frame(self):
        self.assertEqual(analysis_config().full_look_every, 4)
