"""``mostrador mail import|smtpd|poll|reprocess``: the e-mail channel's command line."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from mostrador.conversations.models import Inbox, RawInbound


class Command(BaseCommand):
    help = "E-mail channel: import files, run the SMTP receiver, poll IMAP, re-process mail."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import .eml files, folders, mbox files, Maildirs")
        imp.add_argument("paths", nargs="+", metavar="FILE|DIR|MBOX|MAILDIR")
        imp.add_argument("--inbox", type=int, help="inbox id (default: by recipient address)")
        imp.add_argument("--json", action="store_true", help="print the summary as JSON")
        smtpd = sub.add_parser("smtpd", help="run the SMTP receiver in the foreground")
        smtpd.add_argument("--host", default=None)
        smtpd.add_argument("--port", type=int, default=None)
        poll = sub.add_parser("poll", help="poll IMAP mailboxes once (or --every seconds)")
        poll.add_argument("--inbox", type=int)
        poll.add_argument("--every", type=float, default=0)
        again = sub.add_parser("reprocess", help="process quarantined or pending mail again")
        again.add_argument("ids", nargs="*", type=int)
        again.add_argument("--all", action="store_true", help="every quarantined message")
        again.add_argument("--inbox", type=int, help="assign this inbox first")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"do_{action}")(**options)

    def _inbox(self, inbox_id: int | None) -> Inbox | None:
        if inbox_id is None:
            return None
        inbox = Inbox.objects.filter(pk=inbox_id, channel_kind="email").first()
        if inbox is None:
            raise CommandError(f"there is no e-mail inbox {inbox_id}")
        return inbox

    def do_import(self, *, paths: list[str], inbox: int | None, json: bool, **_) -> None:
        from mostrador.channels.email.importer import import_mail

        target = self._inbox(inbox)
        show = None if json or not sys.stderr.isatty() else self._progress
        summary = import_mail(paths, inbox=target, progress=show)
        if show:
            sys.stderr.write("\n")
        if json:
            self.stdout.write(_json_dumps(summary.as_json()))
        else:
            self.stdout.write(
                f"read {summary.read}: {summary.imported} new conversations, "
                f"{summary.threaded} threaded, {summary.duplicates} duplicates, "
                f"{summary.quarantined} quarantined, {summary.ignored} recorded as automatic "
                f"mail, in {summary.seconds:.2f} s "
                f"({summary.read / summary.seconds if summary.seconds else 0:.0f} messages/s)"
            )
        for problem in summary.unreadable:
            self.stderr.write(f"not imported: {problem}")
        if summary.unreadable and not summary.read:
            raise CommandError("nothing could be read")

    @staticmethod
    def _progress(summary) -> None:
        sys.stderr.write(f"\r{summary.read} messages read…")
        sys.stderr.flush()

    def do_smtpd(self, *, host: str | None, port: int | None, **_) -> None:
        from mostrador.channels.email.smtpd import serve_forever

        serve_forever(host=host, port=port)

    def do_poll(self, *, inbox: int | None, every: float, **_) -> None:
        import time

        from mostrador.channels.email.imap import poll_inboxes

        while True:
            for line in poll_inboxes(inbox_id=inbox):
                self.stdout.write(line)
            if not every:
                return
            time.sleep(every)

    def do_reprocess(self, *, ids: list[int], all: bool, inbox: int | None, **_) -> None:
        from mostrador.conversations.actions import process_raw

        if not ids and not all:
            raise CommandError("name raw message ids or use --all")
        queryset = RawInbound.objects.filter(status__in=[RawInbound.Status.QUARANTINED,
                                                         RawInbound.Status.PENDING])
        if ids:
            queryset = queryset.filter(pk__in=ids)
        target = self._inbox(inbox)
        for raw in queryset.order_by("pk"):
            if target is not None:
                raw.inbox = target
                RawInbound.objects.filter(pk=raw.pk).update(inbox=target)
            raw.status = RawInbound.Status.PENDING
            result = process_raw(raw)
            self.stdout.write(f"{raw.pk}: {result.outcome} {result.reason}".rstrip())


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
