from rest_framework import serializers

from .models import WebhookEvent


class WebhookDeliverySerializer(serializers.Serializer):
    attempt = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()


class WebhookEventSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=WebhookEvent.Type.choices)
    state = serializers.ChoiceField(choices=WebhookEvent.State.choices)
    url = serializers.CharField()
    attempts = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    payload = serializers.DictField()
    deliveries = WebhookDeliverySerializer(many=True)
