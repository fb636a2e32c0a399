"""API view for a job's webhook events: who was told what, and every attempt."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from detection.selectors import job_get_for_user

from .selectors import webhook_events_for_job
from .serializers import WebhookEventSerializer


class JobWebhooksApi(APIView):
    """Webhook events of a job and every delivery attempt, for debugging a receiver."""

    @extend_schema(
        operation_id="job_webhooks", tags=["jobs"], responses=WebhookEventSerializer(many=True)
    )
    def get(self, request, job_id):
        job = job_get_for_user(request.user, job_id)
        events = webhook_events_for_job(job)
        return Response(WebhookEventSerializer(events, many=True).data)


urlpatterns = [
    path("jobs/<uuid:job_id>/webhooks/", JobWebhooksApi.as_view(), name="job-webhooks"),
]
