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


# --- calibration (numpy only, no database) ---------------------------------------------------


def features(similarity_by_intent: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    order = np.argsort(-similarity_by_intent, axis=1)
    rows = np.arange(len(similarity_by_intent))
    best = similarity_by_intent[rows, order[:, 0]]
    second = similarity_by_intent[rows, order[:, 1]]
    return order[:, 0], best, best - second


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


def calibrate(data: dict) -> dict:
    from mostrador.knowledge import embeddings

    train = sorted(data["train"], key=lambda row: row[1])
    intents = sorted({intent for _text, intent in train})
    per_intent = len(train) // len(intents)
    assert all(sum(1 for _t, i in train if i == intent) == per_intent for intent in intents)
    vectors = embeddings.embed([text for text, _intent in train])
    gold = np.repeat(np.arange(len(intents)), per_intent)
    best_all, sim_all, lead_all = [], [], []
    for start in range(0, len(train), 1000):
        chunk = vectors[start:start + 1000] @ vectors.T
        chunk[np.arange(len(chunk)), np.arange(start, start + len(chunk))] = -np.inf
        by_intent = chunk.reshape(len(chunk), len(intents), per_intent).max(axis=2)
        best, sim, lead = features(by_intent)
        best_all.append(best)
        sim_all.append(sim)
        lead_all.append(lead)
    best = np.concatenate(best_all)
    correct = best == gold
    oos = embeddings.embed([text for text, _intent in data["oos_train"]]) @ vectors.T
    _, oos_sim, oos_lead = features(oos.reshape(len(oos), len(intents), per_intent).max(axis=2))
    x = np.vstack([np.column_stack([np.concatenate(sim_all), np.concatenate(lead_all)]),
                   np.column_stack([oos_sim, oos_lead])])
    y = np.concatenate([correct.astype(float), np.zeros(len(oos_sim))])
    negatives = (y == 0).sum()
    weights = np.where(y == 1, 0.5 / (y == 1).sum(), 0.5 / negatives) * len(y)
    theta = fit_logistic(x, y, weights)
    oos_scores = np.column_stack([oos_sim, oos_lead]) @ theta[:2]
    # Shift the bias so that 0.5 (a score of 0) hands over OOS_RECALL_AT_DEFAULT of them.
    bias = -float(np.quantile(oos_scores, OOS_RECALL_AT_DEFAULT))
    return {"weight_similarity": round(float(theta[0]), 2),
            "weight_lead": round(float(theta[1]), 2), "bias": round(bias, 2),
            "fitted_bias": round(float(theta[2]), 2),
            "train_loo_top1": round(float(correct.mean()), 4),
            "oos_train": len(oos_sim)}


# --- the measured phase, inside a product process ---------------------------------------------


def measure_phase(args: argparse.Namespace) -> dict:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mostrador.settings")
    django.setup()
    from django.db import transaction
    from django.utils import timezone

    from mostrador.bot import answer
    from mostrador.knowledge import embeddings, search, semantic
    from mostrador.knowledge.models import Article, ArticlePassage, TranslationGroup

    data = load()
    calibration = calibrate(data) if args.calibrate else None
    if calibration:
        answer.WEIGHT_SIMILARITY = calibration["weight_similarity"]
        answer.WEIGHT_LEAD = calibration["weight_lead"]
        answer.BIAS = calibration["bias"]

    by_intent: dict[str, list[str]] = {}
    for text, intent in data["train"]:
        by_intent.setdefault(intent, []).append(text)
    started = time.perf_counter()
    now = timezone.now()
    with transaction.atomic():
        articles = {}
        for intent, utterances in sorted(by_intent.items()):
            group = TranslationGroup.objects.create()
            articles[intent] = Article.objects.create(
                title=intent.replace("_", " "), slug=intent.replace("_", "-"),
                body_html="", body_text="\n\n".join(utterances), language="en",
                translation_group=group, status=Article.Status.PUBLISHED,
                visibility=Article.Visibility.PUBLIC, published_at=now)
        search.index_articles([(a.pk, "en", "public", a.title, a.body_text)
                               for a in articles.values()])
        for intent, utterances in sorted(by_intent.items()):
            article = Article.objects.get(pk=articles[intent].pk)
            vectors = embeddings.embed(utterances)
            ArticlePassage.objects.bulk_create([
                ArticlePassage(article=article, position=position + 1, text=text,
                               vector=embeddings.to_bytes(vector), language="en",
                               visibility="public", source_updated_at=article.updated_at)
                for position, (text, vector) in enumerate(zip(utterances, vectors,
                                                              strict=True))])
        semantic._bump()
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
                    "bias": answer.BIAS},
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
        print("\ncalibration (train leave-one-out + oos_train):",
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
