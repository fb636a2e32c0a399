"""Cases 3, 4, 5 and 9: uploads are bounded, refused before being read when they must be,
atomic on disk, deduplicated on the web form, and counted per account."""

import errno
import os
import time
from pathlib import Path
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import StopUpload
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from detection import upload_storage
from detection.models import AnalysisJob, Video
from tests.base import PlatformTestCase
from tests.factories import PASSWORD

URL = reverse("detection:upload")
VIDEO = b"\x00\x00\x00\x18ftypmp42 some video bytes"


class Unreadable:
    """A request body that must never be read."""

    def read(self, *args):
        raise AssertionError("the body was read")

    readline = read


def _media_files(settings, sub=""):
    root = Path(settings.MEDIA_ROOT) / sub
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


class UploadLimitTests(PlatformTestCase):
    def setUp(self):
        super().setUp()
        patcher = mock.patch("detection.services.job_enqueue")
        patcher.start()
        self.addCleanup(patcher.stop)

    def _huge(self, length, **extra):
        return self.client.generic(
            "POST",
            URL,
            b"",
            content_type="multipart/form-data; boundary=xyz",
            CONTENT_LENGTH=str(length),
            **{"wsgi.input": Unreadable()},
            **extra,
        )

    def _post(self, content=VIDEO, name="clip.mp4", **extra):
        return self.client.post(URL, {"file": SimpleUploadedFile(name, content)}, **extra)

    # --- case 3 ---------------------------------------------------------------------------

    def test_an_anonymous_upload_is_refused_before_its_body_is_read(self):
        response = self._huge(300 * 1024 * 1024)
        self.assertEqual(response.status_code, 302)
        self.assertIn(reverse("accounts:login"), response["Location"])
        self.assertEqual(_media_files(self.settings_obj()), [])

    def test_the_api_refuses_anonymous_and_oversize_uploads_before_reading_them(self):
        url = reverse("api:video-upload")
        body = {"content_type": "multipart/form-data; boundary=xyz", "wsgi.input": Unreadable()}
        anonymous = APIClient().generic("POST", url, b"", CONTENT_LENGTH=str(300 << 20), **body)
        self.assertEqual(anonymous.status_code, 401)
        api = APIClient()
        api.force_authenticate(self.alice)
        oversize = api.generic("POST", url, b"", CONTENT_LENGTH=str(600 << 20), **body)
        self.assertEqual(oversize.status_code, 400)
        self.assertIn("limit", oversize.json()["field_errors"]["file"][0])
        self.assertFalse(Video.objects.exists())

    def test_an_announced_oversize_upload_is_refused_before_its_body_is_read(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self._huge(600 * 1024 * 1024, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 413)
        self.assertIn("500 MB limit", response.json()["errors"]["file"][0])
        self.assertFalse(Video.objects.exists())

    def test_an_upload_without_a_length_is_refused(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self.client.generic(
            "POST",
            URL,
            b"",
            content_type="multipart/form-data; boundary=xyz",
            CONTENT_LENGTH="",
            **{"wsgi.input": Unreadable()},
        )
        self.assertEqual(response.status_code, 411)

    @override_settings(DETECTION_MAX_UPLOAD_BYTES=1000)
    def test_the_upload_handler_stops_at_the_limit_and_removes_what_it_wrote(self):
        self.client.login(username="alice", password=PASSWORD)
        response = self._post(content=b"x" * 5000, HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("limit", response.json()["errors"]["file"][0])
        self.assertFalse(Video.objects.exists())
        self.assertEqual(_media_files(self.settings_obj()), [])  # no temporary file left

    def test_a_large_form_field_is_refused_by_the_memory_limit(self):
        self.client.login(username="alice", password=PASSWORD)
        from django.conf import settings

        self.assertLessEqual(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, 2 * 1024 * 1024)
        response = self.client.post(URL, {"note": "x" * (3 * 1024 * 1024)})
        self.assertEqual(response.status_code, 400)

    # --- case 4 ---------------------------------------------------------------------------

    def test_a_full_disk_while_receiving_is_507_with_nothing_left_open(self):
        class FullDisk(upload_storage.IncomingUploadedFile):
            def write(self, data):
                raise OSError(errno.ENOSPC, "No space left on device")

        self.client.login(username="alice", password=PASSWORD)
        with mock.patch("detection.upload_storage.IncomingUploadedFile", FullDisk):
            response = self._post(HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 507)
        self.assertIn("no room", response.json()["errors"]["file"][0])
        self.assertEqual((Video.objects.count(), _media_files(self.settings_obj())), (0, []))
        again = self._post(content=VIDEO + b"2")  # the next upload works: nothing left open
        self.assertEqual(again.status_code, 302)
        self.assertEqual(Video.objects.count(), 1)

    def test_a_full_disk_while_moving_into_place_is_507_with_no_row_and_no_file(self):
        self.client.login(username="alice", password=PASSWORD)
        with mock.patch(
            "detection.upload_storage.file_move_safe",
            side_effect=OSError(errno.ENOSPC, "No space left on device"),
        ):
            response = self._post()
        self.assertEqual(response.status_code, 507)
        self.assertEqual((Video.objects.count(), _media_files(self.settings_obj())), (0, []))

    def test_the_api_answers_a_full_disk_with_507_and_its_error_shape(self):
        api = APIClient()
        api.force_authenticate(self.alice)
        with mock.patch(
            "detection.upload_storage.file_move_safe",
            side_effect=OSError(errno.EDQUOT, "Disk quota exceeded"),
        ):
            response = api.post(
                reverse("api:video-upload"),
                {"file": SimpleUploadedFile("a.mp4", VIDEO)},
                format="multipart",
            )
        self.assertEqual(response.status_code, 507)
        self.assertEqual(response.json()["code"], "insufficient_storage")
        self.assertEqual((Video.objects.count(), _media_files(self.settings_obj())), (0, []))

    # --- case 5 ---------------------------------------------------------------------------

    def test_a_failure_in_the_transaction_leaves_no_row_and_no_file(self):
        self.client.login(username="alice", password=PASSWORD)
        with (
            mock.patch("detection.services.job_create", side_effect=RuntimeError("db gone")),
            self.assertRaises(RuntimeError),
        ):
            self._post()
        self.assertEqual((Video.objects.count(), _media_files(self.settings_obj())), (0, []))

    def test_the_file_is_moved_into_place_after_its_row_is_written(self):
        self.client.login(username="alice", password=PASSWORD)
        seen = {}
        real_place = upload_storage.place

        def place(staged, name):
            seen["row"] = Video.objects.filter(file=name).exists()  # same transaction
            seen["staged_in_incoming"] = Path(staged).parent.name == upload_storage.INCOMING_DIR
            return real_place(staged, name)

        with mock.patch("detection.upload_storage.place", side_effect=place):
            self.assertEqual(self._post().status_code, 302)
        self.assertEqual(seen, {"row": True, "staged_in_incoming": True})
        video = Video.objects.get()
        self.assertTrue(Path(video.file.path).is_file())
        self.assertEqual([p.name for p in _media_files(self.settings_obj(), "incoming")], [])

    # --- case 9 ---------------------------------------------------------------------------

    def test_the_same_file_twice_on_the_web_form_is_one_job_and_one_stored_copy(self):
        self.client.login(username="alice", password=PASSWORD)
        first = self._post()
        second = self._post(HTTP_ACCEPT="application/json")
        job = AnalysisJob.objects.get()
        self.assertEqual(first["Location"], reverse("detection:job_detail", args=[job.id]))
        self.assertEqual(second.status_code, 200)
        self.assertEqual(second.json()["job_id"], str(job.id))
        self.assertTrue(second.json()["duplicate"])
        self.assertEqual(len(_media_files(self.settings_obj(), "videos")), 1)

    def test_65_web_uploads_in_a_burst_are_held_to_the_per_minute_rate(self):
        self.client.login(username="alice", password=PASSWORD)
        with override_settings(DETECTION_UPLOADS_PER_MINUTE=60):
            statuses = [
                self._post(
                    content=VIDEO + str(n).encode(), HTTP_ACCEPT="application/json"
                ).status_code
                for n in range(65)
            ]
        self.assertEqual(statuses.count(201), 60)
        self.assertEqual(statuses[60:], [429] * 5)
        self.assertEqual(AnalysisJob.objects.count(), 60)

    @override_settings(DETECTION_UPLOADS_PER_MINUTE=2)
    def test_the_rate_is_shared_by_the_web_form_and_the_api(self):
        self.client.login(username="alice", password=PASSWORD)
        self.assertEqual(self._post(content=b"1" + VIDEO).status_code, 302)
        api = APIClient()
        api.force_authenticate(self.alice)

        def post(content):
            return api.post(
                reverse("api:video-upload"),
                {"file": SimpleUploadedFile("a.mp4", content)},
                format="multipart",
            )

        self.assertEqual(post(b"2" + VIDEO).status_code, 202)
        third = post(b"3" + VIDEO)
        self.assertEqual(third.status_code, 429)
        self.assertIn("Retry-After", third)

    def test_an_upload_past_the_storage_quota_is_refused(self):
        self.client.login(username="alice", password=PASSWORD)
        with override_settings(DETECTION_USER_STORAGE_BYTES=len(VIDEO) + 10):
            self.assertEqual(self._post().status_code, 302)
            response = self._post(content=VIDEO + b"more", HTTP_ACCEPT="application/json")
        self.assertEqual(response.status_code, 400)
        self.assertIn("quota", response.json()["errors"]["file"][0])
        self.assertEqual(Video.objects.count(), 1)

    def settings_obj(self):
        from django.conf import settings

        return settings


def test_the_handler_refuses_the_chunk_that_passes_the_limit(settings, tmp_path):
    handler = upload_storage.LimitedUploadHandler(None, limit=10)
    handler.new_file("file", "a.mp4", "video/mp4", None)
    handler.receive_data_chunk(b"x" * 10, 0)
    path = Path(handler.file.temporary_file_path())
    assert path.exists() and path.parent.name == "incoming"
    try:
        handler.receive_data_chunk(b"y", 10)
    except StopUpload as stop:
        assert stop.connection_reset
    else:
        raise AssertionError("the handler kept reading past the limit")
    assert not path.exists()


@pytest.mark.django_db
def test_old_temporary_files_orphans_and_rows_without_files_are_cleaned(settings, capsys):
    from django.core.management import call_command

    from tests.factories import JobFactory, VideoFactory

    if True:
        kept = VideoFactory()
        missing = VideoFactory()
        JobFactory(video=missing)
        os.remove(missing.file.path)
        root = Path(settings.MEDIA_ROOT)
        stale_temp = upload_storage.incoming_dir() / "tmp123.upload.mp4"
        stale_temp.write_bytes(b"killed mid-upload")
        orphan = root / "videos" / "2026" / "01" / "no-row.mp4"
        orphan.parent.mkdir(parents=True, exist_ok=True)
        orphan.write_bytes(b"moved into place, row never committed")
        young = root / "videos" / "2026" / "01" / "in-flight.mp4"
        young.write_bytes(b"an upload committing right now")
        old = time.time() - 7200
        for path in (stale_temp, orphan):
            os.utime(path, (old, old))
        call_command("media_check")
        out = capsys.readouterr().out
        assert "files_without_rows: 1" in out and "stale_temporary_files: 1" in out
        assert "videos_without_files: 1" in out
        assert stale_temp.exists() and orphan.exists()  # a report changes nothing
        call_command("media_check", "--delete")
        assert not stale_temp.exists() and not orphan.exists()
        assert young.exists()  # within the grace time: maybe an upload in flight
        assert not Video.objects.filter(id=missing.id).exists()
        assert Video.objects.filter(id=kept.id).exists() and Path(kept.file.path).exists()
        call_command("media_check")
        assert "files_without_rows: 0" in capsys.readouterr().out


@pytest.mark.django_db
def test_failed_uploads_are_deleted_after_their_retention(
    settings, django_capture_on_commit_callbacks
):
    import datetime as dt

    from django.utils import timezone

    from detection.models import JobStatus
    from orchestration.media import videos_failed_purge
    from tests.factories import JobFactory

    settings.DETECTION_FAILED_UPLOAD_RETENTION_DAYS = 30
    long_ago = timezone.now() - dt.timedelta(days=31)
    old_failed = JobFactory(status=JobStatus.FAILED, finished_at=long_ago).video
    recent_failed = JobFactory(status=JobStatus.FAILED, finished_at=timezone.now()).video
    retried = JobFactory(status=JobStatus.FAILED, finished_at=long_ago).video
    JobFactory(video=retried, status=JobStatus.DONE, finished_at=long_ago)
    path = Path(old_failed.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        assert videos_failed_purge() == 1
    assert not Video.objects.filter(id=old_failed.id).exists() and not path.exists()
    assert Video.objects.filter(id__in=[recent_failed.id, retried.id]).count() == 2
    settings.DETECTION_FAILED_UPLOAD_RETENTION_DAYS = 0  # kept forever
    JobFactory(status=JobStatus.FAILED, finished_at=long_ago)
    assert videos_failed_purge() == 0


@pytest.mark.django_db
def test_a_worker_killed_while_storing_leaves_only_a_temporary_folder(
    clips, shipped_analyser, settings
):
    """Crops are staged in incoming/ and renamed into place as the storing transaction's last
    step: a worker that dies before then leaves no crop without its row."""
    from django.core.files import File

    from detection import services
    from detection.models import FaceResult
    from tests.factories import JobFactory, VideoFactory

    video = VideoFactory()
    with open(clips["face"], "rb") as fh:
        video.file.save("face.mp4", File(fh), save=True)
    job = JobFactory(video=video)
    result = shipped_analyser.analyse(video.file.path)

    class Killed(BaseException):  # what SIGKILL looks like from inside: nothing runs after it
        pass

    with (
        mock.patch("detection.services.upload_storage.place_dir", side_effect=Killed),
        pytest.raises(Killed),
    ):
        services.job_store_result(
            job=job, model_version=job.model_version, result=result, seconds=1.0
        )
    root = Path(settings.MEDIA_ROOT)
    assert not (root / "crops" / str(job.id)).exists()  # no crop without its row
    assert not FaceResult.objects.filter(frame__job=job).exists()
    staged = [p for p in (root / "incoming").rglob("*.jpg")]
    assert staged  # only a temporary folder, which media_check removes
    old = time.time() - 7200
    for path in staged:
        os.utime(path, (old, old))
    from django.core.management import call_command

    call_command("media_check", "--delete")
    assert not any((root / "incoming").iterdir())
    services.job_store_result(
        job=job, model_version=job.model_version, result=result, seconds=1.0
    )  # a later attempt stores normally
    face = FaceResult.objects.filter(frame__job=job).first()
    assert face.crop.name.startswith(f"crops/{job.id}/") and Path(face.crop.path).is_file()
