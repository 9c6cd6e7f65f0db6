"""``mostrador seed_demo``: fill an empty desk with the demo desk, without serving it."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand

from mostrador.core import demo


class Command(BaseCommand):
    help = ("Seed the demo desk (agents, teams, inboxes, bilingual customers and conversations) "
            "into an empty desk. Does nothing when the demo desk is already there.")

    def add_arguments(self, parser) -> None:
        add_seed_arguments(parser)

    def handle(self, *args, conversations: int, customers: int, seed: int, **options) -> None:
        seed_and_report(self, conversations=conversations, customers=customers, seed=seed)


def add_seed_arguments(parser) -> None:
    parser.add_argument("--conversations", type=int, default=2500,
                        help="how many conversations to create (default 2500)")
    parser.add_argument("--customers", type=int, default=300,
                        help="how many customers write them (default 300)")
    parser.add_argument("--seed", type=int, default=7,
                        help="random seed: the same seed gives the same desk")


def seed_and_report(command: BaseCommand, *, conversations: int, customers: int,
                    seed: int) -> demo.DemoSummary | None:
    """Seed when the desk is empty; say what happened either way. None when not seeded."""
    if demo.demo_desk_exists():
        command.stdout.write("The demo desk is already there; leaving it as it is.")
        return None
    if not demo.desk_is_empty():
        command.stdout.write("This desk already has inboxes or conversations, so the demo desk "
                             "was not added (it only goes into an empty desk).")
        return None
    command.stdout.write(f"Seeding the demo desk: {conversations} conversations from "
                         f"{customers} customers…")
    interactive = sys.stdout.isatty()

    def progress(done: int, total: int) -> None:
        if interactive:
            sys.stdout.write(f"\r  {done}/{total} conversations")
            sys.stdout.flush()

    summary = demo.seed_demo_desk(conversations=conversations, customers=customers, seed=seed,
                                  progress=progress)
    if interactive:
        sys.stdout.write("\n")
    command.stdout.write(
        f"Seeded {summary.conversations} conversations ({summary.messages} messages) from "
        f"{summary.customers} customers in {summary.seconds:.1f} s.")
    return summary
