from django.db.models import F, QuerySet

from detection.models import AnalysisJob, JobStatus, Verdict

# What the model could not clear on its own: flagged, uncertain, or nothing to score.
NEEDS_REVIEW = (Verdict.FAKE, Verdict.UNCERTAIN, Verdict.NO_FACE)


def review_queue() -> QuerySet[AnalysisJob]:
    """Finished analyses a moderator should look at: most confident fakes first, then oldest."""
    return (AnalysisJob.objects.filter(status=JobStatus.DONE, verdict__in=NEEDS_REVIEW)
            .select_related("video", "video__uploaded_by", "model_version")
            .order_by(F("fake_probability").desc(nulls_last=True), "created_at"))
