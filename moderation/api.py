"""Moderation API: the review queue, claims, decisions, history (moderators), appeals (uploaders).

Thin views over moderation.services; the same rules as the web pages: moderator-only
endpoints answer 403 to uploaders, an appeal on someone else's job answers 404.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from deepfake_site.api_common import ErrorSerializer
from detection.selectors import job_get_for_user

from . import selectors, services
from .filters import ReviewItemFilter
from .models import MODERATOR_REASONS, Decision, ReviewItem, ReviewState


class IsModerator(BasePermission):
    message = "Moderators only."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_moderator)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The item changed meanwhile."
    default_code = "conflict"


CONFLICT = OpenApiResponse(
    ErrorSerializer,
    description="The item changed under you (claimed by someone else, already decided...).",
)


class ReviewEventSerializer(serializers.Serializer):
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(
        source="actor.username",
        allow_null=True,
        default=None,
        help_text="Null when the system (routing) made the change.",
    )
    from_state = serializers.CharField()
    to_state = serializers.ChoiceField(choices=ReviewState.choices)
    reason = serializers.CharField()
    note = serializers.CharField()
    model_score = serializers.FloatField(allow_null=True)


class ReviewItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    job_id = serializers.UUIDField()
    state = serializers.ChoiceField(choices=ReviewState.choices)
    model_score = serializers.FloatField(allow_null=True)
    model_verdict = serializers.CharField()
    uploaded_by = serializers.CharField(source="job.video.uploaded_by.username")
    video_name = serializers.CharField(source="job.video.original_name")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    claimed_by = serializers.CharField(source="claimed_by.username", allow_null=True, default=None)
    claim_expires_at = serializers.DateTimeField(allow_null=True)
    appeal_message = serializers.CharField()
    appealed_at = serializers.DateTimeField(allow_null=True)


class ReviewItemListApi(generics.ListAPIView):
    """The review queue (default: waiting items, most confident fakes first); filterable."""

    permission_classes = [IsModerator]
    serializer_class = ReviewItemSerializer
    filterset_class = ReviewItemFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user
            return selectors.review_items().none()
        return selectors.review_items_offered_to(self.request.user).order_by(*selectors.PRIORITY)

    @extend_schema(operation_id="review_item_list", tags=["moderation"])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class ReviewItemDetailApi(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="review_item_detail", tags=["moderation"], responses=ReviewItemSerializer
    )
    def get(self, request, item_id: int):
        return Response(ReviewItemSerializer(selectors.review_item_get(item_id)).data)


class ReviewItemHistoryApi(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="review_item_history",
        tags=["moderation"],
        responses=ReviewEventSerializer(many=True),
    )
    def get(self, request, item_id: int):
        item = selectors.review_item_get(item_id)
        return Response(ReviewEventSerializer(selectors.review_history(item), many=True).data)


class ReviewItemClaimApi(APIView):
    """Claim an item for review (or renew one's own claim)."""

    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="review_item_claim",
        tags=["moderation"],
        request=None,
        responses={200: ReviewItemSerializer, 409: CONFLICT},
    )
    def post(self, request, item_id: int):
        item = selectors.review_item_get(item_id)
        try:
            item = services.review_item_claim(item_id=item.pk, moderator=request.user)
        except services.ReviewConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(ReviewItemSerializer(selectors.review_item_get(item.pk)).data)


class ReviewItemReleaseApi(APIView):
    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="review_item_release",
        tags=["moderation"],
        request=None,
        responses={204: OpenApiResponse(description="Released."), 409: CONFLICT},
    )
    def post(self, request, item_id: int):
        item = selectors.review_item_get(item_id)
        if not services.review_item_release(item_id=item.pk, moderator=request.user):
            raise Conflict("You do not hold a claim on this item.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ReviewItemDecideApi(APIView):
    """Confirm fake, overturn (real) or escalate an item you have claimed."""

    permission_classes = [IsModerator]

    class ReviewDecisionInputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=Decision.choices)
        reason = serializers.ChoiceField(choices=MODERATOR_REASONS)
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="Required when the reason is `other`.",
        )

    @extend_schema(
        operation_id="review_item_decide",
        tags=["moderation"],
        request=ReviewDecisionInputSerializer,
        responses={200: ReviewItemSerializer, 409: CONFLICT},
    )
    def post(self, request, item_id: int):
        item = selectors.review_item_get(item_id)
        data = self.ReviewDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.review_item_decide(
                item_id=item.pk, moderator=request.user, **data.validated_data
            )
        except services.ReviewConflict as exc:
            raise Conflict(str(exc)) from None
        return Response(ReviewItemSerializer(selectors.review_item_get(item.pk)).data)


class JobAppealApi(APIView):
    """The uploader contests the decision on their own video, once."""

    class JobAppealInputSerializer(serializers.Serializer):
        message = serializers.CharField(
            max_length=2000, help_text="Why you disagree with the decision."
        )

    class JobAppealOutputSerializer(serializers.Serializer):
        state = serializers.ChoiceField(choices=ReviewState.choices)
        status = serializers.CharField(source="public_status")
        appealed_at = serializers.DateTimeField()

    @extend_schema(
        operation_id="job_appeal",
        tags=["moderation"],
        request=JobAppealInputSerializer,
        responses={200: JobAppealOutputSerializer, 409: CONFLICT},
    )
    def post(self, request, job_id):
        job = job_get_for_user(request.user, job_id)
        if job.video.uploaded_by_id != request.user.pk:  # moderators see it, only owners appeal
            raise Http404("No such analysis")
        data = self.JobAppealInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            item = services.review_item_appeal(
                job_id=job.id, uploader=request.user, message=data.validated_data["message"]
            )
        except services.ReviewConflict as exc:
            raise Conflict(str(exc)) from None
        except ReviewItem.DoesNotExist:
            raise Http404("This video has no review to appeal") from None
        return Response(self.JobAppealOutputSerializer(item).data)


urlpatterns = [
    path("moderation/items/", ReviewItemListApi.as_view(), name="review-item-list"),
    path(
        "moderation/items/<int:item_id>/", ReviewItemDetailApi.as_view(), name="review-item-detail"
    ),
    path(
        "moderation/items/<int:item_id>/history/",
        ReviewItemHistoryApi.as_view(),
        name="review-item-history",
    ),
    path(
        "moderation/items/<int:item_id>/claim/",
        ReviewItemClaimApi.as_view(),
        name="review-item-claim",
    ),
    path(
        "moderation/items/<int:item_id>/release/",
        ReviewItemReleaseApi.as_view(),
        name="review-item-release",
    ),
    path(
        "moderation/items/<int:item_id>/decide/",
        ReviewItemDecideApi.as_view(),
        name="review-item-decide",
    ),
    path("jobs/<uuid:job_id>/appeal/", JobAppealApi.as_view(), name="job-appeal"),
]
