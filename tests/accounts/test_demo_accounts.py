import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from accounts.models import Role, User

pytestmark = pytest.mark.django_db


def test_it_creates_the_three_roles_and_prints_their_passwords_once(capsys):
    call_command("create_demo_accounts")
    out = capsys.readouterr().out
    users = {u.username: u for u in User.objects.all()}
    assert {u: users[u].role for u in users} == {
        "admin": Role.ADMIN,
        "moderator": Role.MODERATOR,
        "uploader": Role.UPLOADER,
    }
    assert users["admin"].is_staff and users["admin"].is_superuser
    assert not users["moderator"].is_staff
    for line in out.splitlines():
        username, password = line.split("login: ")[1].split(" password: ")
        assert authenticate(username=username.strip(), password=password.strip())

    call_command("create_demo_accounts")
    assert "password:" not in capsys.readouterr().out  # never shown again
    assert User.objects.count() == 3


def test_it_takes_passwords_from_the_environment(monkeypatch):
    monkeypatch.setenv("DEMO_MODERATOR_PASSWORD", "a-long-moderator-secret")
    call_command("create_demo_accounts")
    assert authenticate(username="moderator", password="a-long-moderator-secret")


def test_it_refuses_a_weak_password_from_the_environment(monkeypatch):
    from django.core.management import CommandError

    monkeypatch.setenv("DEMO_UPLOADER_PASSWORD", "123")
    with pytest.raises(CommandError, match="too short"):
        call_command("create_demo_accounts")
    assert not User.objects.filter(username="uploader").exists()
