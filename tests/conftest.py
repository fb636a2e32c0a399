import pytest

from . import media


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    """Every test writes uploads and crops under its own temporary folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Tests create and log in many users: a deliberately slow password hash costs ~1 s each.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The manifest storage needs `collectstatic` first; tests render pages without it.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Throttle, quota and lockout counters: a cache of the test's own, never another run's.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": str(tmp_path),
        }
    }


@pytest.fixture(scope="session")
def clips(tmp_path_factory):
    """Generated clips shared by the whole run (writing them costs ~0.2 s)."""
    root = tmp_path_factory.mktemp("clips")
    face = media.face_clip(root / "face.mp4")
    return {
        "face": face,
        "no_face": media.no_face_clip(root / "no_face.mp4"),
        "not_video": media.not_a_video(root / "document.mp4"),
        "empty": media.empty_file(root / "empty.mp4"),
        "truncated": media.truncated_copy(face, root / "truncated.mp4"),
    }


@pytest.fixture(scope="session")
def shipped_analyser():
    """The model shipped in the repository, loaded once for the session."""
    from django.conf import settings

    from detection.pipeline import Analyser

    return Analyser.from_spec_file(settings.DETECTION_DEFAULT_MODEL_SPEC)
