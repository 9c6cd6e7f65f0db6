"""``mostrador createadmin --email E --password P``: an administrator, non-interactively."""

from __future__ import annotations

import getpass

from django.core.management.base import BaseCommand, CommandError

from mostrador.accounts.actions import do_create_staff_user
from mostrador.accounts.models import Agent
from mostrador.core.errors import MostradorError


class Command(BaseCommand):
    help = "Create an administrator (or reset an existing one's password with --update)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="asked for when omitted and a terminal is there")
        parser.add_argument("--name", default="")
        parser.add_argument("--update", action="store_true",
                            help="set the password and role of an existing user")

    def handle(self, *args, email: str, password: str | None, name: str, update: bool,
               **options) -> None:
        if password is None:
            if not self.stdin_is_tty():
                raise CommandError("--password is required when there is no terminal")
            password = getpass.getpass("Password: ")
        try:
            user = do_create_staff_user(email=email, password=password, display_name=name,
                                        role=Agent.Role.ADMIN, update_existing=update)
        except MostradorError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"administrator {user.username} is ready")

    @staticmethod
    def stdin_is_tty() -> bool:
        import sys

        return sys.stdin.isatty()
