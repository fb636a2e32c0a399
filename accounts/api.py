"""API tokens: obtain one with a password (scripts), revoke it, and say who is calling."""

from django.contrib.auth import authenticate
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from . import services
from .models import Role


class TokenObtainApi(APIView):
    """Exchange a username and password for the account's API token (created if needed)."""

    authentication_classes = []  # credentials are in the body; no session, so no CSRF
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]  # password guessing is rate-limited per address

    class TokenObtainInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=4096, trim_whitespace=False, style={"input_type": "password"}
        )

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")

    @extend_schema(
        operation_id="token_obtain",
        tags=["auth"],
        auth=[],
        request=TokenObtainInputSerializer,
        responses=TokenOutputSerializer,
    )
    def post(self, request):
        data = self.TokenObtainInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = authenticate(
            request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                "Unable to log in with these credentials.", code="authorization"
            )
        token = services.api_token_get_or_create(user=user)
        return Response(self.TokenOutputSerializer({"token": token.key}).data)


class TokenRevokeApi(APIView):
    @extend_schema(
        operation_id="token_revoke",
        tags=["auth"],
        request=None,
        responses={204: OpenApiResponse(description="The token no longer works.")},
    )
    def post(self, request):
        services.api_token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeApi(APIView):
    class MeOutputSerializer(serializers.Serializer):
        username = serializers.CharField()
        role = serializers.ChoiceField(choices=Role.choices)
        is_moderator = serializers.BooleanField()

    @extend_schema(operation_id="me", tags=["auth"], responses=MeOutputSerializer)
    def get(self, request):
        return Response(self.MeOutputSerializer(request.user).data)


urlpatterns = [
    path("auth/token/", TokenObtainApi.as_view(), name="token-obtain"),
    path("auth/token/revoke/", TokenRevokeApi.as_view(), name="token-revoke"),
    path("auth/me/", MeApi.as_view(), name="me"),
]
