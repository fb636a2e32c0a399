"""API views for uploads, jobs and model versions: validate, call one service, respond.

Visibility is the web pages' (`selectors.jobs_visible_to` / `job_get_for_user`): someone
else's job answers 404, never 403.
"""

import datetime as dt

import django_filters
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import APIException, Throttled, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from . import quotas, selectors, services
from .models import AnalysisJob, JobStatus, ModelVersion, Profile, Verdict
from .serializers import (
    JobDetailSerializer,
    JobSerializer,
    ModelVersionSerializer,
    UploadResultSerializer,
)
from .upload_guard import MULTIPART_OVERHEAD_BYTES, too_large_message
from .upload_storage import StorageFull


class InsufficientStorage(APIException):
    status_code = 507
    default_code = "insufficient_storage"
    default_detail = StorageFull.message


class VideoUploadApi(APIView):
    """Upload a video (multipart, streamed to disk) and queue its analysis."""

    parser_classes = [MultiPartParser]
    # On top of the per-user rate: uploads are the expensive call.
    throttle_classes = [UserRateThrottle, AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "uploads"
    bounded_upload = True  # the body is parsed by an upload handler that stops at the limit

    class VideoUploadInputSerializer(serializers.Serializer):
        file = serializers.FileField(allow_empty_file=False, help_text="The video file.")
        callback_url = serializers.URLField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="http(s) URL on a public address that receives the signed "
            "`job.finished` event (and `job.moderated` events).",
        )
        client_reference = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="Your own label for this upload, echoed back and filterable.",
        )
        profile = serializers.ChoiceField(
            choices=Profile.choices,
            required=False,
            help_text="Speed profile: `default` (within 1.5x the decode time) or `thorough` "
            "(twice the frames, a full look for faces in each; up to 4x). "
            "Default: the site's DETECTION_DEFAULT_PROFILE.",
        )
        reanalyse = serializers.BooleanField(
            required=False,
            default=False,
            help_text="Analyse again even if this account uploaded the same file before "
            "(a new job, under the currently active model).",
        )

    @extend_schema(
        operation_id="video_upload",
        tags=["videos"],
        request={"multipart/form-data": VideoUploadInputSerializer},
        responses={
            202: OpenApiResponse(UploadResultSerializer, description="Queued."),
            200: OpenApiResponse(
                UploadResultSerializer,
                description="Duplicate: this account sent the same file "
                "before; the earlier analysis is returned.",
            ),
        },
    )
    def post(self, request):
        # Refuse an announced oversize body before reading it (it would be streamed to disk).
        if int(request.META.get("CONTENT_LENGTH") or 0) > (
            settings.DETECTION_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
        ):
            raise ValidationError({"file": [too_large_message()]})
        # The account's upload rate, shared with the web form and across processes.
        if not quotas.upload_rate_take(user=request.user):
            raise Throttled(wait=quotas.upload_rate_retry_after())
        data = self.VideoUploadInputSerializer(data=request.data)
        refused = getattr(request._request, "upload_refused", None)  # the handler stopped
        if refused == "disk_full":
            raise InsufficientStorage()
        if refused == "too_large":
            raise ValidationError({"file": [too_large_message()]})
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        try:
            outcome = services.video_submit(
                user=request.user,
                uploaded_file=fields["file"],
                callback_url=fields.get("callback_url", ""),
                client_reference=fields.get("client_reference", ""),
                reanalyse=fields["reanalyse"],
                profile=fields.get("profile", ""),
            )
        except StorageFull:
            raise InsufficientStorage() from None
        body = UploadResultSerializer(
            {"duplicate": outcome.duplicate, "job": outcome.job}, context={"request": request}
        ).data
        return Response(
            body,
            status=status.HTTP_200_OK if outcome.duplicate else status.HTTP_202_ACCEPTED,
            headers={"Location": body["job"]["url"]},
        )


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 time with any offset Python accepts, compared in UTC: PostgreSQL refuses
    offsets beyond +-15:59 that ISO and Python allow, which would be a server error."""

    def filter(self, qs, value):
        if value is not None and value.tzinfo is not None:
            try:
                value = value.astimezone(dt.UTC)
            except OverflowError:  # before year 1 or after 9999 once in UTC
                after = self.lookup_expr in ("gt", "gte")
                early = value.year < 5000
                return qs if after == early else qs.none()
        return super().filter(qs, value)


class NullsLastOrderingFilter(django_filters.OrderingFilter):
    """Jobs without a value (queued, failed: no probability yet) sort last in both directions,
    on every database: PostgreSQL would put them first when descending, SQLite last."""

    def get_ordering_value(self, param):
        name = super().get_ordering_value(param)
        field = F(name.lstrip("-"))
        return field.desc(nulls_last=True) if name.startswith("-") else field.asc(nulls_last=True)


class JobFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=JobStatus.choices)
    verdict = django_filters.ChoiceFilter(choices=Verdict.choices)
    created_after = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")
    client_reference = django_filters.CharFilter()
    ordering = NullsLastOrderingFilter(fields=("created_at", "finished_at", "fake_probability"))

    class Meta:
        model = AnalysisJob
        fields = ["status", "verdict", "client_reference"]


class JobListApi(generics.ListAPIView):
    """Jobs this account may see (moderators: everyone's), newest first, paginated."""

    serializer_class = JobSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return AnalysisJob.objects.none()
        jobs = selectors.jobs_visible_to(self.request.user)
        # The moderation state is part of each row: one join instead of a query per job.
        return jobs.select_related("review") if hasattr(AnalysisJob, "review") else jobs

    @extend_schema(operation_id="job_list", tags=["jobs"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class JobDetailApi(APIView):
    @extend_schema(operation_id="job_detail", tags=["jobs"], responses=JobDetailSerializer)
    def get(self, request, job_id):
        job = selectors.job_with_results(selectors.job_get_for_user(request.user, job_id))
        return Response(JobDetailSerializer(job, context={"request": request}).data)


class JobReanalyseApi(APIView):
    """Repeat a finished analysis with the same model version, config and frames (not the
    active version: that is an upload with `reanalyse`). The new job's result is the
    original's; a difference would mean the stored result no longer means what it did."""

    throttle_classes = [UserRateThrottle, AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "uploads"

    @extend_schema(
        operation_id="job_reanalyse",
        tags=["jobs"],
        request=None,
        responses={202: JobSerializer},
    )
    def post(self, request, job_id):
        job = selectors.job_get_for_user(request.user, job_id)
        try:
            again = services.job_reanalyse(job=job)
        except DjangoValidationError as exc:
            raise ValidationError({"job": exc.messages}) from exc
        return Response(
            JobSerializer(again, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class ModelVersionListApi(generics.ListAPIView):
    """Model versions with their metrics; `is_active` marks the one new analyses use."""

    serializer_class = ModelVersionSerializer
    queryset = ModelVersion.objects.order_by("-created_at")

    @extend_schema(operation_id="model_version_list", tags=["model versions"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ModelVersionDetailApi(APIView):
    @extend_schema(
        operation_id="model_version_detail",
        tags=["model versions"],
        responses=ModelVersionSerializer,
    )
    def get(self, request, version_id: int):
        version = get_object_or_404(ModelVersion, id=version_id)
        return Response(ModelVersionSerializer(version).data)


class ModelVersionActiveApi(APIView):
    @extend_schema(
        operation_id="model_version_active",
        tags=["model versions"],
        responses=ModelVersionSerializer,
    )
    def get(self, request):
        version = selectors.model_version_active()
        if version is None:
            raise Http404("No model version is active.")
        return Response(ModelVersionSerializer(version).data)


urlpatterns = [
    path("videos/", VideoUploadApi.as_view(), name="video-upload"),
    path("jobs/", JobListApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>/", JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<uuid:job_id>/reanalyse/", JobReanalyseApi.as_view(), name="job-reanalyse"),
    path("model-versions/", ModelVersionListApi.as_view(), name="model-version-list"),
    path("model-versions/active/", ModelVersionActiveApi.as_view(), name="model-version-active"),
    path(
        "model-versions/<int:version_id>/",
        ModelVersionDetailApi.as_view(),
        name="model-version-detail",
    ),
]
