"""``mostrador token create --user E``: print a new API token for scripts."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from mostrador.accounts.actions import do_create_api_token, staff_user_by_email
from mostrador.core.errors import MostradorError


class Command(BaseCommand):
    help = "Manage API tokens."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="print a new bearer token for a user")
        create.add_argument("--user", required=True, help="the user's e-mail address")
        create.add_argument("--name", default="", help="what the token is for")

    def handle(self, *args, action: str, **options) -> None:
        try:
            user = staff_user_by_email(options["user"])
            _record, token = do_create_api_token(user, name=options["name"])
        except MostradorError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(token)
