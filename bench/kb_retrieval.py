"""Knowledge-base retrieval quality and speed on XQuAD (dev subset): BM25, semantic, hybrid.

    python bench/kb_retrieval.py                    # the whole subset, 3 timing rounds
    python bench/kb_retrieval.py --max-chars 300 --rounds 1

Data: ``$XQUAD_DIR`` (default ``/work/shared/datasets/xquad-dev``), ``xquad.es.json`` and
``xquad.en.json`` (CC BY-SA 4.0, DeepMind's XQuAD: SQuAD 1.1 dev paragraphs and questions with
professional Spanish translations). The two files are parallel: same articles, paragraphs and
question ids, checked on load. Each paragraph is an article of the knowledge base, each
question a customer's query whose right answer is the paragraph it was asked about; a hit at
rank 1 or within the first 5 counts. XQuAD's paragraphs come in groups from one Wikipedia
article (a Super Bowl, a river, …), so neighbours share their vocabulary and topic: finding the
topic is easy, the paragraph is the test.

Pairs: Spanish queries over Spanish paragraphs, English over English, and the two
cross-language pairs. Methods:

* **BM25** (k1 1.2, b 0.75), written here: lowercase, accents folded, a light Spanish/English
  suffix stemmer; what the SQL full-text backends do, roughly, without their stop lists.
* **semantic**: ``mostrador.knowledge.embeddings``; each paragraph cut by ``passages`` into
  passages of at most ``--max-chars`` characters, a paragraph scores its best passage.
* **hybrid**: reciprocal rank fusion of the two full rankings, ``1/(60 + rank)`` summed.
* **find**: the product's rule (``mostrador.knowledge.fusion.fuse`` as ``retrieval.find``
  calls it): the first 50 of each ranking fused, keyword ranks counted only for articles in
  the query's language, and an article the words did not find left out below a cosine of
  0.3; only what ``find`` would return counts.

Speed, in this process on the machine's cores (numpy's BLAS threads): embedding throughput of
the questions (short sentences) and of the passages, best of ``--rounds``; query latency of
one question (embed it, ``top_k`` over the passages of its language); and ``top_k`` alone over
``--scale-rows`` random unit vectors, what a large knowledge base adds. The encoder's first
load is timed on its own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass
from math import log
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.common import (
    busy_processes,
    command_line,
    emit,
    latency,
    machine_facts,
    print_machine,
)
from mostrador.knowledge import embeddings
from mostrador.knowledge.fusion import fuse as product_fuse
from mostrador.knowledge.fusion import semantic_floor

# How deep retrieval.find reads each ranking before fusing, and the cosine below which an
# article only the encoder found is left out (mostrador/knowledge/retrieval.py).
DEPTH = 50

XQUAD = Path(os.environ.get("XQUAD_DIR", "/work/shared/datasets/xquad-dev"))
LANGUAGES = ("es", "en")
PAIRS = (("es", "es"), ("en", "en"), ("es", "en"), ("en", "es"))
RRF_K = 60


@dataclass
class Corpus:
    paragraphs: list[str]  # index = paragraph number, same in both languages
    questions: list[tuple[str, int]]  # (question, its paragraph's number), in id order


def load(language: str) -> tuple[Corpus, list[str]]:
    data = json.loads((XQUAD / f"xquad.{language}.json").read_text(encoding="utf-8"))
    paragraphs, questions, ids = [], [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            number = len(paragraphs)
            paragraphs.append(paragraph["context"].lstrip("\ufeff").strip())
            for qa in paragraph["qas"]:
                questions.append((qa["question"].strip(), number))
                ids.append(qa["id"])
    return Corpus(paragraphs, questions), ids


# --- BM25 -----------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
# Longest first; a suffix is removed only when a stem of at least 3 letters is left.
_SUFFIXES = sorted(
    {
        # Spanish
        "amientos",
        "imientos",
        "amiento",
        "imiento",
        "aciones",
        "uciones",
        "iciones",
        "mente",
        "acion",
        "icion",
        "ucion",
        "ciones",
        "cion",
        "idades",
        "idad",
        "ismos",
        "ismo",
        "istas",
        "ista",
        "ables",
        "ibles",
        "able",
        "ible",
        "anzas",
        "anza",
        "ando",
        "iendo",
        "aron",
        "ieron",
        "aban",
        "ados",
        "adas",
        "idos",
        "idas",
        "ado",
        "ada",
        "ido",
        "ida",
        "ales",
        "osos",
        "osas",
        "oso",
        "osa",
        "ar",
        "er",
        "ir",
        "es",
        "os",
        "as",
        "a",
        "o",
        "e",
        # English
        "ations",
        "ation",
        "ments",
        "ment",
        "ness",
        "ingly",
        "ings",
        "ing",
        "edly",
        "ed",
        "ly",
        "ies",
        "ers",
        "s",
    },
    key=len,
    reverse=True,
)
_MIN_STEM = 3


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def stem(word: str) -> str:
    if word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM:
            return word[: -len(suffix)]
    return word


def terms(text: str) -> list[str]:
    return [stem(word) for word in _WORD.findall(fold(text))]


class BM25:
    def __init__(self, documents: list[str], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.docs = [Counter(terms(d)) for d in documents]
        self.lengths = np.array([sum(c.values()) for c in self.docs], dtype=np.float64)
        self.average = self.lengths.mean()
        df: Counter = Counter()
        for counts in self.docs:
            df.update(counts.keys())
        n = len(self.docs)
        self.idf = {t: log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in df.items()}

    def scores(self, query: str) -> np.ndarray:
        out = np.zeros(len(self.docs))
        norm = self.k1 * (1 - self.b + self.b * self.lengths / self.average)
        for term in set(terms(query)):
            idf = self.idf.get(term)
            if idf is None:
                continue
            tf = np.array([counts.get(term, 0) for counts in self.docs], dtype=np.float64)
            out += idf * tf * (self.k1 + 1) / (tf + norm)
        return out


# --- ranking and scoring ----------------------------------------------------------------------


def ranking(scores: np.ndarray) -> np.ndarray:
    """Paragraph numbers best first; equal scores in paragraph order."""
    return np.lexsort((np.arange(len(scores)), -scores))


def fuse(*rankings: np.ndarray) -> np.ndarray:
    fused = np.zeros(len(rankings[0]))
    for order in rankings:
        fused[order] += 1.0 / (RRF_K + np.arange(1, len(order) + 1))
    return ranking(fused)


def product_ranking(fused: list[tuple[int, float]], _semantic: np.ndarray) -> np.ndarray:
    """What ``find`` returns, and nothing past it (-1 stands for "no result")."""
    return np.array([pk for pk, _score in fused] or [-1])


def accuracy(rankings: list[np.ndarray], gold: list[int]) -> dict:
    top1 = sum(order[0] == g for order, g in zip(rankings, gold, strict=True))
    top5 = sum(g in order[:5] for order, g in zip(rankings, gold, strict=True))
    return {"top1": round(top1 / len(gold), 4), "top5": round(top5 / len(gold), 4)}


def passage_index(paragraphs: list[str], max_chars: int) -> tuple[list[str], np.ndarray]:
    texts, owners = [], []
    for number, paragraph in enumerate(paragraphs):
        for passage in embeddings.passages(paragraph, max_chars=max_chars):
            texts.append(passage)
            owners.append(number)
    return texts, np.array(owners)


def best_passage_scores(similarity: np.ndarray, owners: np.ndarray) -> np.ndarray:
    """(queries × passages) → (queries × paragraphs), a paragraph's score its best passage's.
    ``owners`` is sorted (passages are listed paragraph by paragraph)."""
    starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
    return np.maximum.reduceat(similarity, starts, axis=1)


def throughput(texts: list[str], rounds: int) -> dict:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        embeddings.embed(texts)
        times.append(time.perf_counter() - started)
    return {
        "texts": len(texts),
        "chars_mean": round(sum(map(len, texts)) / len(texts)),
        "per_s": round(len(texts) / min(times)),
        "median_per_s": round(len(texts) / sorted(times)[len(times) // 2]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--max-chars",
        type=int,
        default=embeddings.MAX_PASSAGE_CHARS,
        help="longest passage a paragraph is cut into for embedding",
    )
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds for throughput")
    parser.add_argument("--latency-queries", type=int, default=300)
    parser.add_argument(
        "--scale-rows", type=int, default=100_000, help="random vectors for the top_k-alone timing"
    )
    args = parser.parse_args()

    facts = machine_facts()
    print_machine(facts)
    # The encoder uses every core through numpy's BLAS, so a neighbour's work shows in its speed.
    busy = [line for line in busy_processes() if "kb_retrieval.py" not in line]
    if busy:
        print("busy at start: " + "; ".join(busy))
    corpora, ids = {}, {}
    for language in LANGUAGES:
        corpora[language], ids[language] = load(language)
    if ids["es"] != ids["en"] or [g for _, g in corpora["es"].questions] != [
        g for _, g in corpora["en"].questions
    ]:
        raise SystemExit("xquad.es.json and xquad.en.json are not parallel")
    n_paragraphs = len(corpora["es"].paragraphs)
    n_questions = len(corpora["es"].questions)

    started = time.perf_counter()
    embeddings.get_encoder()
    load_s = time.perf_counter() - started

    bm25 = {lang: BM25(corpora[lang].paragraphs) for lang in LANGUAGES}
    passage_texts, owners, passage_vectors, question_vectors = {}, {}, {}, {}
    for lang in LANGUAGES:
        passage_texts[lang], owners[lang] = passage_index(corpora[lang].paragraphs, args.max_chars)
        passage_vectors[lang] = embeddings.embed(passage_texts[lang])
        question_vectors[lang] = embeddings.embed([q for q, _ in corpora[lang].questions])

    gold = [g for _, g in corpora["es"].questions]
    results = []
    for query_lang, doc_lang in PAIRS:
        questions = [q for q, _ in corpora[query_lang].questions]
        lexical = [ranking(bm25[doc_lang].scores(q)) for q in questions]
        similarity = question_vectors[query_lang] @ passage_vectors[doc_lang].T
        best_scores = best_passage_scores(similarity, owners[doc_lang])
        semantic = [ranking(row) for row in best_scores]
        hybrid = [fuse(a, b) for a, b in zip(lexical, semantic, strict=True)]
        # What retrieval.find does: keyword ranks count only for articles in the query's
        # language, so across languages the encoder's ranking stands alone.
        same = set(range(n_paragraphs)) if query_lang == doc_lang else set()
        product = [product_ranking(product_fuse(
            a[:DEPTH].tolist(),
            [pk for pk in b[:DEPTH].tolist() if row[pk] >= semantic_floor(row[b[0]])],
            same_language=same), b) for a, b, row in zip(lexical, semantic, best_scores,
                                                        strict=True)]
        for method, rankings in (("BM25", lexical), ("semantic", semantic), ("hybrid", hybrid),
                                 ("find", product)):
            results.append(
                {
                    "queries": query_lang,
                    "paragraphs": doc_lang,
                    "method": method,
                    **accuracy(rankings, gold),
                }
            )

    speed = {
        "questions": throughput(
            [q for lang in LANGUAGES for q, _ in corpora[lang].questions], args.rounds
        ),
        "passages": throughput([p for lang in LANGUAGES for p in passage_texts[lang]], args.rounds),
    }
    query_times = []
    sample = (
        corpora["es"].questions[: args.latency_queries // 2]
        + corpora["en"].questions[: args.latency_queries - args.latency_queries // 2]
    )
    for index, (question, _) in enumerate(sample):
        matrix = passage_vectors["es" if index < args.latency_queries // 2 else "en"]
        started = time.perf_counter()
        embeddings.top_k(embeddings.embed([question])[0], matrix, 20)
        query_times.append(time.perf_counter() - started)
    rng = np.random.default_rng(42)
    big = rng.standard_normal((args.scale_rows, embeddings.DIMENSIONS)).astype(np.float32)
    big /= np.linalg.norm(big, axis=1, keepdims=True)
    scale_times = []
    for vector in question_vectors["es"][:100]:
        started = time.perf_counter()
        embeddings.top_k(vector, big, 20)
        scale_times.append(time.perf_counter() - started)

    n_passages = {lang: len(passage_texts[lang]) for lang in LANGUAGES}
    print(
        f"\nXQuAD dev subset: {n_paragraphs} paragraphs (articles), {n_questions} questions "
        f"per language; passages ≤ {args.max_chars} chars: {n_passages['es']} es, "
        f"{n_passages['en']} en"
    )
    header = f"{'queries → paragraphs':<22} {'method':<10} {'top-1':>7} {'top-5':>7}"
    print(header)
    print("-" * len(header))
    for row in results:
        pair = f"{row['queries']} → {row['paragraphs']}"
        print(f"{pair:<22} {row['method']:<10} {row['top1']:>7.1%} {row['top5']:>7.1%}")
    query_latency = latency(query_times)
    scale_latency = latency(scale_times)
    print(f"\nencoder load: {load_s:.2f} s")
    for name, figures in speed.items():
        print(
            f"embedding throughput, {name} (mean {figures['chars_mean']} chars): "
            f"{figures['per_s']:,}/s (median round {figures['median_per_s']:,}/s)"
        )
    print(
        f"query (embed one question + top_k over ~{n_passages['es']} passages): "
        f"p50 {query_latency['p50_ms']} ms, p95 {query_latency['p95_ms']} ms, "
        f"p99 {query_latency['p99_ms']} ms"
    )
    print(
        f"top_k alone over {args.scale_rows:,} vectors: p50 {scale_latency['p50_ms']} ms, "
        f"p95 {scale_latency['p95_ms']} ms"
    )
    emit(
        {
            "bench": "kb_retrieval",
            "command": command_line(),
            "machine": facts,
            "busy_processes_at_start": busy,
            "dataset": str(XQUAD),
            "paragraphs": n_paragraphs,
            "questions_per_language": n_questions,
            "max_chars": args.max_chars,
            "passages": n_passages,
            "rrf_k": RRF_K,
            "accuracy": results,
            "encoder_load_s": round(load_s, 3),
            "throughput": speed,
            "query_latency": query_latency,
            "top_k_scale": {"rows": args.scale_rows, **scale_latency},
        }
    )


if __name__ == "__main__":
    main()
