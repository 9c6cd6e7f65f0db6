"""``mostrador kb import FILE``: the knowledge base's command line."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Knowledge base: import articles from JSON lines."

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import articles from a JSON lines file ('-' reads "
                                            "standard input); see docs/knowledge.md")
        imp.add_argument("file", metavar="FILE")
        imp.add_argument("--publish", action="store_true",
                         help="publish every article the file names")
        imp.add_argument("--json", action="store_true", help="print the summary as JSON")
        sub.add_parser("reindex", help="rebuild the search index and the embeddings of "
                                       "published articles")

    def handle(self, *args, action: str, **options) -> None:
        getattr(self, f"do_{action}")(**options)

    def do_import(self, *, file: str, publish: bool, json: bool, **_) -> None:
        from mostrador.knowledge.importer import import_articles

        try:
            stream = sys.stdin if file == "-" else open(file, encoding="utf-8")  # noqa: SIM115
        except OSError as problem:
            raise CommandError(f"cannot read {file}: {problem.strerror}") from None
        try:
            summary = import_articles(stream, publish=publish)
        except UnicodeDecodeError:
            raise CommandError(f"{file} is not UTF-8 text") from None
        finally:
            if stream is not sys.stdin:
                stream.close()
        for line, problem in summary.problems:
            self.stderr.write(f"line {line}: {problem}")
        if json:
            self.stdout.write(_json_dumps(summary.as_json()))
        else:
            self.stdout.write(
                f"read {summary.read}: {summary.created} created, {summary.updated} updated, "
                f"{summary.linked} translations linked, {summary.errors} errors, "
                f"in {summary.seconds:.2f} s")
        if summary.errors and not (summary.created or summary.updated):
            raise CommandError("nothing could be imported")


    def do_reindex(self, **_) -> None:
        from mostrador.knowledge.search import reindex_all
        from mostrador.knowledge.semantic import embed_all

        self.stdout.write(f"{reindex_all()} published articles indexed")
        self.stdout.write(f"{embed_all()} published articles embedded")


def _json_dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)
