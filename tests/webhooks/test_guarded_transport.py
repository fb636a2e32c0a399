"""Case 8: the webhook address is checked on the socket the POST uses (DNS rebinding), IPv4
inside IPv6 is refused, the ports are a setting, and a refusal does not say what a name
resolved to."""

import socket
from unittest import mock

import pytest
from django.utils import timezone

from detection import callback_urls as webhooks
from detection import services
from tests.factories import JobFactory, done_job
from webhooks import services as webhook_services
from webhooks import transport
from webhooks.models import WebhookEvent

from .receiver import Receiver

pytestmark = pytest.mark.django_db

PUBLIC = "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::5db8:d70e",  # NAT64 even of a public IPv4 address: the gateway decides
        "64:ff9b:1::7f00:1",  # local-use NAT64
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:93.184.215.14",  # IPv4-mapped, even public
        "::127.0.0.1",  # IPv4-compatible
    ],
)
def test_ipv4_inside_ipv6_is_refused(address):
    with pytest.raises(webhooks.CallbackUrlRefused, match="non-public"):
        webhooks.callback_url_check(f"http://[{address}]/hook", allow_private=False)


def test_a_public_ipv6_address_is_accepted():
    webhooks.callback_url_check(
        "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", allow_private=False
    )


def test_the_refusal_does_not_say_what_the_name_resolves_to():
    answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", 80))]
    with (
        mock.patch("socket.getaddrinfo", return_value=answers),
        pytest.raises(webhooks.CallbackUrlRefused) as refused,
    ):
        webhooks.callback_url_check("http://internal.example/hook", allow_private=False)
    assert "10.20.30.40" not in str(refused.value) and "non-public" in str(refused.value)


def test_only_the_allowed_ports_may_be_named():
    with pytest.raises(webhooks.CallbackUrlRefused, match="port 22 is not allowed"):
        webhooks.callback_url_check(
            f"http://{PUBLIC}:22/hook", allow_private=False, allowed_ports=[80, 443]
        )
    webhooks.callback_url_check(
        f"https://{PUBLIC}:443/hook", allow_private=False, allowed_ports=[80, 443]
    )


def test_the_service_takes_the_ports_from_settings(settings):
    settings.WEBHOOK_ALLOWED_PORTS = [443]
    with pytest.raises(services.ValidationError):
        services.callback_url_validate(url=f"http://{PUBLIC}:8080/hook")


def _rebinding(port):
    """Public for the first lookup (the check at upload or before sending), loopback after."""
    calls = []

    def getaddrinfo(host, *args, **kwargs):
        calls.append(host)
        address = PUBLIC if len(calls) == 1 else "127.0.0.1"
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    return getaddrinfo, calls


def test_dns_rebinding_cannot_reach_an_internal_server(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_ALLOWED_PORTS = []
    with Receiver() as internal:
        port = int(internal.url.rsplit(":", 1)[1].split("/")[0])
        url = f"http://rebind.example:{port}/hook"
        getaddrinfo, calls = _rebinding(port)
        with mock.patch("socket.getaddrinfo", side_effect=getaddrinfo):
            services.callback_url_validate(url=url)  # the upload's check sees a public address
            job = done_job(uploader=JobFactory().video.uploaded_by)
            event = WebhookEvent.objects.create(
                job=job,
                type=WebhookEvent.Type.JOB_FINISHED,
                url=url,
                payload={"id": "x"},
                next_attempt_at=timezone.now(),
            )
            with mock.patch("webhooks.services.webhook_enqueue"):
                delivery = webhook_services.webhook_deliver(event_id=event.id)
        assert len(calls) >= 2  # the connection resolved the name itself
        assert internal.requests == []  # nothing reached the internal server
    event.refresh_from_db()
    assert event.state == WebhookEvent.State.FAILED  # refused for good, not retried
    assert delivery.status_code is None and "non-public" in delivery.error
    assert "127.0.0.1" not in delivery.error


def test_the_connected_socket_itself_is_checked():
    """Even when every lookup says public, a connection that lands on a private peer (a
    resolver or route that changed under us) is closed before anything is sent."""
    with Receiver() as internal:
        port = int(internal.url.rsplit(":", 1)[1].split("/")[0])
        answers = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC, port))]
        real_connect = socket.socket.connect

        def lands_on_loopback(sock, address):
            return real_connect(sock, ("127.0.0.1", address[1]))

        with (
            mock.patch("socket.getaddrinfo", return_value=answers),
            mock.patch.object(socket.socket, "connect", lands_on_loopback),
            pytest.raises(webhooks.CallbackUrlRefused, match="non-public"),
        ):
            transport.post(f"http://public.example:{port}/hook", b"{}", {}, timeout_s=2)
        assert internal.requests == []
