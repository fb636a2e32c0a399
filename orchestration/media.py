"""Media files and rows kept in step, across the apps that own them (detection's videos and
crops, moderation's heatmaps): orphans both ways, stale temporary files, and the
retention of failed uploads (`manage.py media_check`, and a daily side-cluster schedule)."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from detection.models import AnalysisJob, FaceResult, JobStatus, Video
from detection.upload_storage import INCOMING_DIR
from moderation.models import HeatmapOverlay

# A file this young may belong to an upload whose transaction has not committed yet.
DEFAULT_GRACE_S = 3600


@dataclass
class MediaReport:
    files_without_rows: list[str] = field(default_factory=list)
    videos_without_files: list[str] = field(default_factory=list)
    crops_without_files: list[int] = field(default_factory=list)
    heatmaps_without_files: list[int] = field(default_factory=list)
    stale_temporary_files: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not any(vars(self).values())

    def counts(self) -> dict[str, int]:
        return {key: len(value) for key, value in vars(self).items()}


def _referenced_names() -> set[str]:
    names = set(Video.objects.values_list("file", flat=True))
    names |= set(FaceResult.objects.values_list("crop", flat=True))
    names |= set(HeatmapOverlay.objects.values_list("image", flat=True))
    return names


def media_audit(*, grace_s: float = DEFAULT_GRACE_S) -> MediaReport:
    root = Path(settings.MEDIA_ROOT)
    report = MediaReport()
    cutoff = time.time() - grace_s
    referenced = _referenced_names()
    if root.is_dir():
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            try:
                old = path.stat().st_mtime < cutoff
            except FileNotFoundError:
                continue
            if relative.startswith(INCOMING_DIR + "/"):
                if old:
                    report.stale_temporary_files.append(relative)
            elif relative not in referenced and old:
                report.files_without_rows.append(relative)

    def exists(name) -> bool:
        return bool(name) and (root / name).is_file()

    report.videos_without_files = [
        str(pk) for pk, name in Video.objects.values_list("id", "file") if not exists(name)
    ]
    report.crops_without_files = [
        pk for pk, name in FaceResult.objects.values_list("id", "crop") if not exists(name)
    ]
    report.heatmaps_without_files = [
        pk for pk, name in HeatmapOverlay.objects.values_list("id", "image") if not exists(name)
    ]
    return report


def media_clean(report: MediaReport) -> None:
    """Remove what the report found: orphan and stale temporary files; videos without their
    file (rows, jobs and results: nothing can be analysed or shown without it); heatmap rows
    without their image (computed again on demand). Face rows without a crop are reported
    only: they are a verdict's evidence."""
    root = Path(settings.MEDIA_ROOT)
    for relative in report.files_without_rows + report.stale_temporary_files:
        (root / relative).unlink(missing_ok=True)
    incoming = root / INCOMING_DIR
    if incoming.is_dir():  # the folders of crops a killed worker was storing, now empty
        for folder in sorted((p for p in incoming.iterdir() if p.is_dir()), reverse=True):
            if not any(folder.rglob("*")):
                folder.rmdir()
    with transaction.atomic():
        Video.objects.filter(id__in=report.videos_without_files).delete()
        HeatmapOverlay.objects.filter(id__in=report.heatmaps_without_files).delete()


def videos_failed_purge(*, now: dt.datetime | None = None) -> int:
    """Delete uploads whose every analysis failed, the last over the retention ago."""
    days = settings.DETECTION_FAILED_UPLOAD_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    videos = (
        Video.objects.annotate(last_finished=Max("jobs__finished_at"))
        .filter(jobs__isnull=False, last_finished__lt=cutoff)
        .exclude(jobs__in=AnalysisJob.objects.filter(~Q(status=JobStatus.FAILED)))
        .distinct()
    )
    purged = 0
    for video in videos:
        name = video.file.name
        with transaction.atomic():
            video.delete()
            transaction.on_commit(
                lambda name=name: (Path(settings.MEDIA_ROOT) / name).unlink(missing_ok=True)
            )
        purged += 1
    return purged
