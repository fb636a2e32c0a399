import os

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Role
from accounts.services import demo_accounts_ensure


class Command(BaseCommand):
    help = (
        "Create the demo admin, moderator and uploader accounts if missing, printing their "
        "passwords once. Passwords come from DEMO_ADMIN_PASSWORD, DEMO_MODERATOR_PASSWORD "
        "and DEMO_UPLOADER_PASSWORD when set, otherwise they are generated."
    )

    def handle(self, *args, **options):
        passwords = {role: os.environ.get(f"DEMO_{role.upper()}_PASSWORD", "") for role in Role}
        try:
            accounts = demo_accounts_ensure(passwords=passwords)
        except ValidationError as exc:
            raise CommandError(
                "A DEMO_*_PASSWORD was refused by the password rules: " + " ".join(exc.messages)
            ) from exc
        for account in accounts:
            if account.password:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"created {account.role:<9} login: {account.username:<10} "
                        f"password: {account.password}"
                    )
                )
            else:
                self.stdout.write(
                    f"exists  {account.role:<9} login: {account.username:<10} (password unchanged)"
                )
