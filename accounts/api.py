"""API tokens: obtain one with a password (scripts), revoke it, and say who is calling."""

from django.contrib.auth import authenticate
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import APIException
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from . import services
from .lockout import lockout_message
from .models import Role


class LockedOut(APIException):
    status_code = 429
    default_code = "locked_out"


class TokenObtainApi(APIView):
    """Exchange a username and password for a new API token, shown once; it expires.

    Failed attempts count towards the login lockout (by account and by client address), as on
    the login page.
    """

    authentication_classes = []  # credentials are in the body; no session, so no CSRF
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]  # password guessing is rate-limited per address

    class TokenObtainInputSerializer(serializers.Serializer):
        username = serializers.CharField(max_length=150)
        password = serializers.CharField(
            max_length=4096, trim_whitespace=False, style={"input_type": "password"}
        )

    class TokenOutputSerializer(serializers.Serializer):
        token = serializers.CharField(
            help_text="Send as `Authorization: Token <token>`. Shown once: only a hash is kept."
        )
        expiry = serializers.DateTimeField(help_text="When the token stops working.")

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
        # Django's request: the lockout (django-axes) counts it and flags a locked-out one.
        user = authenticate(
            request._request,
            username=data.validated_data["username"],
            password=data.validated_data["password"],
        )
        if getattr(request._request, "axes_locked_out", False):
            raise LockedOut(lockout_message())
        if user is None or not user.is_active:
            raise serializers.ValidationError(
                "Unable to log in with these credentials.", code="authorization"
            )
        token = services.api_token_create(user=user, replace=False)
        return Response(
            self.TokenOutputSerializer({"token": token.key, "expiry": token.expiry}).data,
            headers={"Cache-Control": "no-store"},
        )


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
