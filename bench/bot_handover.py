"""The answer bot on CLINC150: does it hand over what it cannot answer, and is what it answers
right? And how long does one answer take?

    python bench/bot_handover.py               # evaluate on val + oos_val, time the answers
    python bench/bot_handover.py --calibrate   # also fit the confidence (train + oos_train)

Data: ``$CLINC_DIR`` (default ``/work/shared/datasets/clinc150-dev``), ``data_dev.json``
(CC BY 3.0, Larson et al. 2019, "An Evaluation Dataset for Intent Classification and
Out-of-Scope Prediction", clinc/oos-eval): 150 intents, 100 training utterances each, 20
validation utterances each, and out-of-scope queries (100 for training, 100 for validation).

The knowledge the bot has: each intent is a published article whose passages are its training
utterances (inserted as ``ArticlePassage`` rows with their embeddings; the article's body, the
utterances, goes into the keyword index through the product's own ``index_articles``). The
queries: ``val`` (in scope: the right answer is the article of its intent) and ``oos_val`` (out
of scope: the right answer is a handover). Every query goes through the product's
``bot.answer.decide``, the same call the conversation hook and ``POST /api/v1/bot/answer``
make, in a fresh SQLite database in this process.

Reported: the share of out-of-scope queries handed over, the accuracy of the in-scope queries
the bot answered, and the share of in-scope queries it answered, at the default threshold and
at a few others; and the latency of ``decide`` (embed the question, retrieve, compose).

``--calibrate`` fits the confidence on the training splits only: each training utterance is a
query against the other 14,999 (leave one out), labelled right when its best article is its
intent's; the out-of-scope training queries are labelled wrong. Features: the best article's
cosine and its lead over the second; a logistic regression (Newton's method, classes weighted
equally), shifted so that 0.5 hands over 95 % of the out-of-scope training queries. It prints
the weights to put in ``mostrador/bot/answer.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    PYTHON,
    REPO,
    command_line,
    fresh_var_dir,
    latency,
    machine_facts,
    mostrador,
    print_machine,
    product_env,
)

CLINC = Path(os.environ.get("CLINC_DIR", "/work/shared/datasets/clinc150-dev"))
TARGET_OOS = 0.90
TARGET_ACCURACY = 0.90
TARGET_P95_MS = 100.0
OOS_RECALL_AT_DEFAULT = 0.95


def load() -> dict:
    return json.loads((CLINC / "data_dev.json").read_text())


# --- fitting the confidence ------------------------------------------------------------------


def fit_logistic(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Weighted logistic regression by Newton's method; returns (w..., bias)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    theta = np.zeros(design.shape[1])
    for _ in range(50):
        p = 1 / (1 + np.exp(-design @ theta))
        gradient = design.T @ (weights * (p - y))
        hessian = (design * (weights * p * (1 - p))[:, None]).T @ design
        step = np.linalg.solve(hessian + 1e-6 * np.eye(len(theta)), gradient)
        theta -= step
        if np.abs(step).max() < 1e-8:
            break
    return theta


# --- the measured phase, inside a product process ---------------------------------------------


def measure_phase(args: argparse.Namespace) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")
    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from mostrador.bot import answer
    from mostrador.knowledge import embeddings, retrieval, search, semantic
    from mostrador.knowledge.models import Article, ArticlePassage, TranslationGroup

    data = load()
    by_intent: dict[str, list[str]] = {}
    for text, intent in data["train"]:
        by_intent.setdefault(intent, []).append(text)

    def build(knowledge: dict[str, list[str]]) -> dict[str, Article]:
        """The knowledge base: one published article per intent, its utterances as passages."""
        Article.objects.all().delete()
        TranslationGroup.objects.all().delete()
        search.reindex_all()
        now = timezone.now()
        with transaction.atomic():
            made = {}
            for intent, utterances in sorted(knowledge.items()):
                made[intent] = Article.objects.create(
                    title=intent.replace("_", " "), slug=intent.replace("_", "-"),
                    body_html="", body_text="\n\n".join(utterances), language="en",
                    translation_group=TranslationGroup.objects.create(),
                    status=Article.Status.PUBLISHED, visibility=Article.Visibility.PUBLIC,
                    published_at=now)
            search.index_articles([(a.pk, "en", "public", a.title, a.body_text)
                                   for a in made.values()])
            for intent, utterances in sorted(knowledge.items()):
                article = Article.objects.get(pk=made[intent].pk)
                vectors = embeddings.embed(utterances)
                ArticlePassage.objects.bulk_create([
                    ArticlePassage(article=article, position=position + 1, text=text,
                                   vector=embeddings.to_bytes(vector), language="en",
                                   visibility="public", source_updated_at=article.updated_at)
                    for position, (text, vector) in enumerate(zip(utterances, vectors,
                                                                  strict=True))])
            semantic._bump()
        return made

    calibration = None
    if args.calibrate:
        # Knowledge: half of each intent's training utterances; queries: the other half (in
        # scope, right when the first article is their intent's) and oos_train (wrong).
        half = {intent: texts[: len(texts) // 2] for intent, texts in by_intent.items()}
        made = build(half)
        intent_of = {a.pk: intent for intent, a in made.items()}
        rows, labels = [], []
        for intent, texts in sorted(by_intent.items()):
            for text in texts[len(texts) // 2:]:
                found = retrieval.find(text, language="en", limit=answer.CANDIDATES,
                                       semantic_floor=0.0)
                rows.append(answer.features(found))
                labels.append(1.0 if intent_of.get(found[0].article_id) == intent else 0.0)
        oos_rows = []
        for text, _intent in data["oos_train"]:
            found = retrieval.find(text, language="en", limit=answer.CANDIDATES,
                                   semantic_floor=0.0)
            oos_rows.append(answer.features(found))
        x = np.array(rows + oos_rows)
        y = np.array(labels + [0.0] * len(oos_rows))
        weights = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / (y == 0).sum()) * len(y)
        theta = fit_logistic(x, y, weights)
        oos_scores = np.array(oos_rows) @ theta[:3]
        # Shift the bias so that 0.5 (a score of 0) hands over OOS_RECALL_AT_DEFAULT of them.
        bias = -float(np.quantile(oos_scores, OOS_RECALL_AT_DEFAULT))
        calibration = {"weight_similarity": round(float(theta[0]), 2),
                       "weight_lead": round(float(theta[1]), 2),
                       "weight_keyword_first": round(float(theta[2]), 2),
                       "bias": round(bias, 2), "fitted_bias": round(float(theta[3]), 2),
                       "held_out_top1": round(float(np.mean(labels)), 4),
                       "queries": len(rows), "oos_train": len(oos_rows)}
        answer.WEIGHT_SIMILARITY = calibration["weight_similarity"]
        answer.WEIGHT_LEAD = calibration["weight_lead"]
        answer.WEIGHT_KEYWORD_FIRST = calibration["weight_keyword_first"]
        answer.BIAS = calibration["bias"]

    started = time.perf_counter()
    articles = build(by_intent)
    build_seconds = time.perf_counter() - started
    intent_of = {a.pk: intent for intent, a in articles.items()}

    semantic.matrix()  # loaded once, as a running server has it
    answer.decide("warm up the encoder", language="en")
    in_scope, out_of_scope, timings = [], [], []
    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    for text, intent in data["val"]:
        t0 = time.perf_counter()
        decision = answer.decide(text, language="en")
        timings.append(time.perf_counter() - t0)
        in_scope.append((intent, decision.best_article_id, decision.confidence,
                         decision.handover, decision.reason))
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(30)
    for text, _intent in data["oos_val"]:
        decision = answer.decide(text, language="en")
        out_of_scope.append((decision.confidence, decision.handover, decision.reason))

    def at(threshold: float) -> dict:
        answered = [(intent, best) for intent, best, conf, _h, reason in in_scope
                    if reason != "asked_for_human" and conf >= threshold]
        right = sum(1 for intent, best in answered if intent_of.get(best) == intent)
        handed = sum(1 for conf, _h, reason in out_of_scope
                     if reason == "asked_for_human" or conf < threshold)
        return {"threshold": threshold,
                "oos_handed_over": round(handed / len(out_of_scope), 4),
                "in_scope_answered": round(len(answered) / len(in_scope), 4),
                "answered_correct": round(right / len(answered), 4) if answered else None}

    default = at(answer.DEFAULT_THRESHOLD)
    default["by_decide"] = {
        "oos_handed_over": round(sum(h for _c, h, _r in out_of_scope) / len(out_of_scope), 4),
        "in_scope_answered": round(sum(not h for *_x, h, _r in in_scope) / len(in_scope), 4)}
    reasons: dict[str, int] = {}
    for *_x, reason in in_scope:
        reasons[reason] = reasons.get(reason, 0) + 1
    return {
        "calibration": calibration,
        "weights": {"similarity": answer.WEIGHT_SIMILARITY, "lead": answer.WEIGHT_LEAD,
                    "keyword_first": answer.WEIGHT_KEYWORD_FIRST, "bias": answer.BIAS},
        "default_threshold": answer.DEFAULT_THRESHOLD,
        "default": default,
        "sweep": [at(t) for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)],
        "in_scope_reasons": reasons,
        "articles": len(articles), "passages": ArticlePassage.objects.count(),
        "build_seconds": round(build_seconds, 1),
        "latency": latency(timings),
        "queries": {"val": len(in_scope), "oos_val": len(out_of_scope)},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the confidence on train + oos_train first")
    parser.add_argument("--phase", choices=["measure"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        print(json.dumps(measure_phase(args), default=str))
        return 0

    facts = machine_facts()
    print_machine(facts)
    print(command_line())
    var_dir = fresh_var_dir("mostrador-bench-bot-")
    env = product_env(var_dir)
    try:
        mostrador(["migrate", "--noinput", "-v", "0"], env)
        command = [PYTHON, str(Path(__file__).resolve()), "--phase", "measure"]
        if args.calibrate:
            command.append("--calibrate")
        result = subprocess.run(command, cwd=REPO, env=env, stdout=subprocess.PIPE, text=True)
        if result.returncode != 0:
            raise SystemExit(f"the measure phase failed ({result.returncode}):\n"
                             f"{result.stdout[-3000:]}")
        measured = json.loads(result.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)

    if measured["calibration"]:
        print("\ncalibration (half of train as knowledge, the other half + oos_train as queries):",
              json.dumps(measured["calibration"]))
    print(f"\nknowledge: {measured['articles']} articles, {measured['passages']:,} passages, "
          f"built in {measured['build_seconds']} s; queries: {measured['queries']}")
    print(f"weights {measured['weights']}, default threshold {measured['default_threshold']}")
    print(f"{'threshold':>9} {'OOS handed over':>16} {'in-scope answered':>18} "
          f"{'answered correct':>17}")
    for row in measured["sweep"]:
        correct = row["answered_correct"]
        print(f"{row['threshold']:9.2f} {row['oos_handed_over']:16.1%} "
              f"{row['in_scope_answered']:18.1%} "
              f"{(f'{correct:.1%}' if correct is not None else '-'):>17}")
    d = measured["default"]
    met = (d["oos_handed_over"] >= TARGET_OOS and (d["answered_correct"] or 0) >= TARGET_ACCURACY)
    print(f"\nat the default threshold: {d['oos_handed_over']:.1%} of out-of-scope handed over "
          f"(target ≥ {TARGET_OOS:.0%}), {d['answered_correct']:.1%} of answered in-scope "
          f"correct (target ≥ {TARGET_ACCURACY:.0%}): {'met' if met else 'missed'}; "
          f"{d['in_scope_answered']:.1%} of in-scope answered")
    print(f"in-scope decisions by reason: {measured['in_scope_reasons']}")
    lat = measured["latency"]
    print(f"decide() latency over {measured['queries']['val']} questions: "
          f"p50 {lat['p50_ms']:.1f} ms, p95 {lat['p95_ms']:.1f} ms, p99 {lat['p99_ms']:.1f} ms "
          f"(target p95 ≤ {TARGET_P95_MS:.0f} ms: "
          f"{'met' if lat['p95_ms'] <= TARGET_P95_MS else 'missed'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
