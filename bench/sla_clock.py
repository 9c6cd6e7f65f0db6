"""SLA due times: ``BusinessCalendar`` arithmetic ≥ 100,000 due-time computations/s on one core.

    python bench/sla_clock.py                       # 20,000 starts, 5 rounds
    python bench/sla_clock.py --starts 50000 --rounds 3 --zone America/New_York

The calendar is a typical desk's: Monday to Friday 09:00–14:00 and 15:00–18:00 in
Europe/Madrid, with the national and Comunidad de Madrid holidays of the years measured (12 a
year, from the ``holidays`` package). The starts are random instants (to the microsecond) spread
evenly over one year, the same for every case (seeded). Cases: ``add`` of 1 hour, 8 hours and
72 hours of business time, ``add_days(start, 15)``, and ``working_time`` from each start to an
instant up to 30 days later.

Unlike the other scripts this one imports the product in-process: the clock is a pure library
(no database, no Django), so what a caller gets is exactly a function call on one core.

* warm: one calendar, one untimed pass over all the starts first (so its open intervals are
  built), then each round timed. The best round is the figure (the machine is shared: a slower
  round measures the neighbours); the median is printed beside it.
* cold: each round a new calendar, timed from its first call, so the lazy building of the open
  intervals (three months at a time, doubling) is inside the figure.
* first call: a new calendar's first ``add``, alone: what a process pays once per calendar.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import holidays

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import command_line, emit, machine_facts, print_machine
from mostrador.sla.clock import BusinessCalendar

TARGET_PER_S = 100_000
OFFICE = {
    day: [("09:00", "14:00"), ("15:00", "18:00")] for day in ("mon", "tue", "wed", "thu", "fri")
}


def make_calendar(zone: str, year: int) -> BusinessCalendar:
    closed = holidays.country_holidays("ES", subdiv="MD", years=range(year - 1, year + 3))
    return BusinessCalendar(zone, OFFICE, holidays=closed)


def random_starts(count: int, year: int, seed: int) -> list[dt.datetime]:
    rng = random.Random(seed)
    first = dt.datetime(year, 1, 1, tzinfo=dt.UTC)
    span_us = 365 * 86_400 * 10**6
    return [first + dt.timedelta(microseconds=rng.randrange(span_us)) for _ in range(count)]


def cases(starts: list[dt.datetime], seed: int) -> dict[str, Callable[[BusinessCalendar], None]]:
    rng = random.Random(seed + 1)
    ends = [s + dt.timedelta(seconds=rng.randrange(30 * 86_400)) for s in starts]
    pairs = list(zip(starts, ends, strict=True))

    def adding(duration: dt.timedelta) -> Callable[[BusinessCalendar], None]:
        def run(calendar: BusinessCalendar) -> None:
            add = calendar.add
            for start in starts:
                add(start, duration)

        return run

    def add_15_days(calendar: BusinessCalendar) -> None:
        add_days = calendar.add_days
        for start in starts:
            add_days(start, 15)

    def working_time(calendar: BusinessCalendar) -> None:
        worked = calendar.working_time
        for a, b in pairs:
            worked(a, b)

    return {
        "add(1 h)": adding(dt.timedelta(hours=1)),
        "add(8 h)": adding(dt.timedelta(hours=8)),
        "add(72 h)": adding(dt.timedelta(hours=72)),
        "add_days(15)": add_15_days,
        "working_time(≤ 30 d)": working_time,
    }


def timed(run: Callable[[BusinessCalendar], None], calendar: BusinessCalendar) -> float:
    started = time.perf_counter()
    run(calendar)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=20_000, help="calls per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--zone", default="Europe/Madrid")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    facts = machine_facts()
    print_machine(facts)
    starts = random_starts(args.starts, args.year, args.seed)
    runs = cases(starts, args.seed)

    first_calls = []
    for start in starts[: args.rounds * 4]:
        calendar = make_calendar(args.zone, args.year)
        started = time.perf_counter()
        calendar.add(start, dt.timedelta(hours=8))
        first_calls.append(time.perf_counter() - started)

    rows = []
    for name, run in runs.items():
        warm_calendar = make_calendar(args.zone, args.year)
        run(warm_calendar)
        warm = [timed(run, warm_calendar) for _ in range(args.rounds)]
        cold = [timed(run, make_calendar(args.zone, args.year)) for _ in range(args.rounds)]
        rows.append(
            {
                "case": name,
                "warm_per_s": round(args.starts / min(warm)),
                "warm_median_per_s": round(args.starts / statistics.median(warm)),
                "warm_us_per_call": round(min(warm) / args.starts * 1e6, 2),
                "cold_per_s": round(args.starts / min(cold)),
                "cold_median_per_s": round(args.starts / statistics.median(cold)),
            }
        )

    print(
        f"\n{args.starts:,} random starts over {args.year} in {args.zone}, {args.rounds} rounds, "
        f"one core; target ≥ {TARGET_PER_S:,} due times/s"
    )
    header = (
        f"{'case':<22} {'warm /s':>10} {'(median)':>10} {'µs/call':>8} "
        f"{'cold /s':>10} {'(median)':>10}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['case']:<22} {row['warm_per_s']:>10,} {row['warm_median_per_s']:>10,} "
            f"{row['warm_us_per_call']:>8} {row['cold_per_s']:>10,} "
            f"{row['cold_median_per_s']:>10,}"
        )
    first_ms = statistics.median(first_calls) * 1000
    print(f"first call on a new calendar (builds ~3 months of intervals): median {first_ms:.2f} ms")
    add_8h = next(row for row in rows if row["case"] == "add(8 h)")
    verdict = "met" if add_8h["warm_per_s"] >= TARGET_PER_S else "missed"
    print(f"add(8 h), warm: {add_8h['warm_per_s']:,}/s, target {TARGET_PER_S:,}/s: {verdict}")
    emit(
        {
            "bench": "sla_clock",
            "command": command_line(),
            "machine": facts,
            "starts": args.starts,
            "rounds": args.rounds,
            "year": args.year,
            "zone": args.zone,
            "cases": rows,
            "first_call_ms_median": round(first_ms, 3),
            "target_per_s": TARGET_PER_S,
            "verdict": verdict,
        }
    )


if __name__ == "__main__":
    main()
