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
from .models import (
    MODERATOR_REASONS,
    QUEUES,
    REASONS_BY_DECISION,
    Decision,
    ReviewItem,
    ReviewState,
)


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
    person_index = serializers.IntegerField(
        allow_null=True,
        help_text="The person the decision is about (0-based, as the job's `persons`).",
    )
    start_s = serializers.FloatField(allow_null=True, help_text="The decided time range.")
    end_s = serializers.FloatField(allow_null=True)
    part = serializers.CharField(help_text="The part of the video, in words.")


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
    short_id = serializers.CharField(
        help_text="Start of the file's SHA-256: tells two files with the same name apart."
    )
    due_at = serializers.DateTimeField(allow_null=True, help_text="The review deadline.")
    assigned_to = serializers.CharField(
        source="assigned_to.username", allow_null=True, default=None
    )
    assigned_team = serializers.CharField(
        source="assigned_team.name", allow_null=True, default=None
    )
    decision = ReviewEventSerializer(
        source="standing_decision",
        allow_null=True,
        help_text="The decision the state rests on (with its person and time range), once decided.",
    )


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
        reason = serializers.ChoiceField(
            choices=MODERATOR_REASONS,
            help_text="Must fit the decision: "
            + "; ".join(
                f"{d.value}: {', '.join(c.value for c in codes)}"
                for d, codes in REASONS_BY_DECISION.items()
            )
            + ".",
        )
        note = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=2000,
            help_text="Required when the reason is `other`.",
        )
        person_index = serializers.IntegerField(
            required=False,
            allow_null=True,
            min_value=0,
            help_text="Decide on one person of the job (0-based, as the job's `persons`).",
        )
        start_s = serializers.FloatField(
            required=False,
            allow_null=True,
            min_value=0,
            help_text="Decide on a time range: its start (s).",
        )
        end_s = serializers.FloatField(
            required=False,
            allow_null=True,
            min_value=0,
            help_text="Its end (s); give both or neither.",
        )

        def validate(self, attrs):
            decision, reason = attrs.get("decision"), attrs.get("reason")
            if reason not in REASONS_BY_DECISION.get(decision, ()):
                raise serializers.ValidationError(
                    {"reason": [f"The reason `{reason}` does not fit the decision `{decision}`."]}
                )
            if (attrs.get("start_s") is None) != (attrs.get("end_s") is None):
                raise serializers.ValidationError(
                    {"end_s": ["Give both ends of the time range, or neither."]}
                )
            return attrs

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


class ReviewQueueClaimNextApi(APIView):
    """Claim the next item of a queue you may take (assigned to you first, then the queue's
    order): `flagged`, `needs_review`, `escalated`, `appealed` or `waiting` (all of them)."""

    permission_classes = [IsModerator]

    @extend_schema(
        operation_id="review_queue_claim_next",
        tags=["moderation"],
        request=None,
        responses={
            200: ReviewItemSerializer,
            204: OpenApiResponse(description="Nothing left for you."),
        },
    )
    def post(self, request, queue: str):
        if queue not in QUEUES:
            raise Http404("No such queue")
        item = services.review_item_claim_next(moderator=request.user, queue=queue)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewItemSerializer(selectors.review_item_get(item.pk)).data)


class ReviewItemsBulkDecideApi(APIView):
    """The same decision on several items: each is claimed and decided on its own (its own
    history entry, the same rules); the ones that cannot be taken are skipped, with why."""

    permission_classes = [IsModerator]

    class BulkDecisionInputSerializer(serializers.Serializer):
        items = serializers.ListField(
            child=serializers.IntegerField(min_value=1), min_length=1, max_length=200
        )
        decision = serializers.ChoiceField(choices=Decision.choices)
        reason = serializers.ChoiceField(
            choices=MODERATOR_REASONS, help_text="Must fit the decision (as for one item)."
        )
        note = serializers.CharField(required=False, allow_blank=True, max_length=2000)

        def validate(self, attrs):
            if attrs["reason"] not in REASONS_BY_DECISION[attrs["decision"]]:
                raise serializers.ValidationError(
                    {
                        "reason": [
                            f"The reason `{attrs['reason']}` does not fit the decision "
                            f"`{attrs['decision']}`."
                        ]
                    }
                )
            return attrs

    class BulkDecisionOutputSerializer(serializers.Serializer):
        decided = serializers.ListField(child=serializers.IntegerField())
        skipped = serializers.DictField(
            child=serializers.CharField(), help_text="Item id -> why it was skipped."
        )

    @extend_schema(
        operation_id="review_items_bulk_decide",
        tags=["moderation"],
        request=BulkDecisionInputSerializer,
        responses=BulkDecisionOutputSerializer,
    )
    def post(self, request):
        data = self.BulkDecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        outcome = services.review_items_decide_bulk(
            item_ids=data.validated_data["items"],
            moderator=request.user,
            decision=data.validated_data["decision"],
            reason=data.validated_data["reason"],
            note=data.validated_data.get("note", ""),
        )
        return Response(
            self.BulkDecisionOutputSerializer(
                {
                    "decided": outcome.decided,
                    "skipped": {str(k): v for k, v in outcome.skipped.items()},
                }
            ).data
        )


class ReviewItemAssignApi(APIView):
    """Assign an open item to a moderator and/or a team (both null: unassign). Senior
    moderators and admins."""

    permission_classes = [IsModerator]

    class AssignInputSerializer(serializers.Serializer):
        assigned_to = serializers.CharField(
            allow_null=True, required=False, help_text="A moderator's username."
        )
        assigned_team = serializers.CharField(
            allow_null=True, required=False, help_text="A team's name."
        )

    @extend_schema(
        operation_id="review_item_assign",
        tags=["moderation"],
        request=AssignInputSerializer,
        responses={200: ReviewItemSerializer, 409: CONFLICT},
    )
    def post(self, request, item_id: int):
        from accounts.models import Team, User

        if not request.user.is_senior_moderator:
            raise exceptions.PermissionDenied("Senior moderators and admins only.")
        item = selectors.review_item_get(item_id)
        data = self.AssignInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        to_user = to_team = None
        if name := data.validated_data.get("assigned_to"):
            to_user = User.objects.filter(username=name).first()
            if to_user is None:
                raise exceptions.ValidationError({"assigned_to": [f"No user {name!r}."]})
        if name := data.validated_data.get("assigned_team"):
            to_team = Team.objects.filter(name=name).first()
            if to_team is None:
                raise exceptions.ValidationError({"assigned_team": [f"No team {name!r}."]})
        try:
            services.review_item_assign(
                item_id=item.pk, by=request.user, to_user=to_user, to_team=to_team
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
    path(
        "moderation/queues/<str:queue>/claim-next/",
        ReviewQueueClaimNextApi.as_view(),
        name="review-queue-claim-next",
    ),
    path(
        "moderation/items/bulk-decide/",
        ReviewItemsBulkDecideApi.as_view(),
        name="review-items-bulk-decide",
    ),
    path(
        "moderation/items/<int:item_id>/assign/",
        ReviewItemAssignApi.as_view(),
        name="review-item-assign",
    ),
    path("jobs/<uuid:job_id>/appeal/", JobAppealApi.as_view(), name="job-appeal"),
]
