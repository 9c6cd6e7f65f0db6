"""The answer bot's decision: quote a published article, or hand over to a person.

``decide(text, language=…)`` is the one place the decision is made; the conversation hook, the
help center's chat and ``POST /api/v1/bot/answer`` all call it.

1. A customer who asks for a person ("hablar con una persona", "agent", "human"…) is handed
   over at once, whatever the knowledge base holds.
2. Otherwise the knowledge base is searched (``knowledge.retrieval.find``: keyword and semantic,
   articles in any language, shown in the customer's when translated).
3. The **confidence** is a probability that the best article answers the question, from two
   features of the semantic ranking: the cosine of the best article's closest passage, and its
   lead over the second best article. The weights were fitted by logistic regression on
   CLINC150's training utterances (each intent an article, each utterance a passage; the
   queries held out from the knowledge they were asked of) and its out-of-scope training
   queries (``bench/bot_handover.py --calibrate``), then shifted so that the default
   threshold, 0.5, hands over 95 % of those out-of-scope queries. The lead weighs most: a
   question close to one article and not to the others is what an answerable question looks
   like, in any knowledge base.
4. At or above the threshold the answer quotes the article's passage closest to the question,
   word for word, with the article's title and link, and asks whether that solved it. The bot
   never writes an answer of its own: what it says besides the quote are fixed sentences.
"""

from __future__ import annotations

import dataclasses
import math
import re

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from mostrador.conversations.language import detect_language
from mostrador.conversations.search import fold
from mostrador.knowledge import retrieval
from mostrador.knowledge.models import Article
from mostrador.knowledge.queries import public_url

# Logistic weights over (best cosine, lead over the closest other article, keyword rank 1):
# fitted by bench/bot_handover.py --calibrate.
WEIGHT_SIMILARITY = 3.37
WEIGHT_LEAD = 17.54
WEIGHT_KEYWORD_FIRST = 0.87
BIAS = -4.33
# Hands over 95 % of CLINC150's out-of-scope training queries (bench/bot_handover.py).
DEFAULT_THRESHOLD = 0.5
MAX_QUESTION_CHARS = 1000
# Articles read to weigh the best one against the others.
CANDIDATES = 5
MAX_QUOTE_CHARS = 600

# Asking for a person, in Spanish and English: whole words or phrases, matched folded (no
# accents, lower case). A word alone ("agente", "human") counts only in a short message, where
# it can only be a request; in a long one the phrase has to be there.
_PHRASES = tuple(fold(p) for p in (
    "hablar con una persona", "hablar con alguien", "hablar con un agente",
    "hablar con un humano", "hablar con un asesor", "hablar con un operador",
    "persona real", "con una persona", "con un humano", "atencion humana",
    "pasame con", "paseme con", "quiero un agente", "quiero una persona",
    "talk to a person", "talk to someone", "talk to a human", "talk to an agent",
    "speak to a person", "speak to someone", "speak to a human", "speak to an agent",
    "speak with", "talk with a", "real person", "human agent", "live agent",
    "customer service representative", "connect me",
))
_WORDS = frozenset(fold(w) for w in (
    "agente", "humano", "persona", "operador", "asesor", "agent", "human", "person",
    "representative", "operator", "someone",
))
_SHORT_WORDS = 6
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True)
class Decision:
    answer: str
    article_id: int | None
    confidence: float
    handover: bool
    # "answered", "asked_for_human", "low_confidence", "no_articles", "language", "empty"
    reason: str
    language: str
    article_title: str = ""
    article_url: str = ""
    passage: str = ""
    # The best article found, also when it was not good enough to quote.
    best_article_id: int | None = None

    def as_json(self) -> dict:
        return {"answer": self.answer, "article_id": self.article_id,
                "confidence": self.confidence, "handover": self.handover}


def asks_for_human(text: str) -> bool:
    folded = " ".join(_WORD.findall(fold(text)))
    if any(phrase in folded for phrase in _PHRASES):
        return True
    words = folded.split()
    return len(words) <= _SHORT_WORDS and any(word in _WORDS for word in words)


def features(found: list[retrieval.Found]) -> tuple[float, float, float]:
    """What the confidence weighs, for the first of ``found`` (the fused ranking): its cosine,
    its lead over the closest other article (negative when another is closer), and whether
    the words also ranked it first."""
    best = found[0]
    others = max((f.similarity for f in found[1:]), default=0.0)
    return best.similarity, best.similarity - others, 1.0 if best.keyword_rank == 1 else 0.0


def confidence(similarity: float, lead: float, keyword_first: float = 0.0) -> float:
    """The calibrated probability that the best article answers the question."""
    z = (WEIGHT_SIMILARITY * similarity + WEIGHT_LEAD * lead
         + WEIGHT_KEYWORD_FIRST * keyword_first + BIAS)
    return 1.0 / (1.0 + math.exp(-z))


def known_languages() -> tuple[str, ...]:
    return tuple(code for code, _name in settings.LANGUAGES)


def reply_language(text: str, language: str = "", languages: tuple[str, ...] = ()) -> str:
    available = languages or known_languages()
    for candidate in (language, detect_language(text)):
        code = (candidate or "").split("-")[0].lower()
        if code in available:
            return code
    return available[0] if settings.LANGUAGE_CODE not in available else settings.LANGUAGE_CODE


def decide(text: str, *, language: str = "", threshold: float | None = None,
           languages: tuple[str, ...] = (), greeting: str = "",
           channel: str = "chat") -> Decision:
    """What the bot does with a customer's message. ``language`` is the customer's when known
    (else detected from the text); ``languages`` the ones the bot may answer in (all when
    empty); ``channel`` "chat" asks with buttons in mind, "email" asks for a reply."""
    text = (text or "").strip()[:MAX_QUESTION_CHARS]
    threshold = DEFAULT_THRESHOLD if threshold is None else threshold
    asked = (language or detect_language(text) or "").split("-")[0].lower()
    reply_in = reply_language(text, language, languages)
    if not text:
        return _handover("empty", reply_in, 0.0)
    if asks_for_human(text):
        return _handover("asked_for_human", reply_in, 0.0)
    if languages and asked and asked not in languages:
        return _handover("language", reply_in, 0.0)
    found = retrieval.find(text, language=reply_in, public_only=True, limit=CANDIDATES,
                           semantic_floor=0.0)
    if not found or found[0].similarity <= 0.0:
        return _handover("no_articles", reply_in, 0.0,
                         article_id=found[0].article_id if found else None)
    best = found[0]
    score = round(confidence(*features(found)), 4)
    # A threshold of 1 means "never answer", even a question that is an article's title.
    if score < threshold or threshold >= 1.0:
        return _handover("low_confidence", reply_in, score, article_id=best.article_id)
    article = Article.objects.only("pk", "title", "slug", "language").get(pk=best.article_id)
    url = public_url(article)
    quote = _quote(best.passage)
    with translation.override(reply_in):
        parts = [greeting] if greeting else []
        parts.append(_("This article may answer your question: “%(title)s”.")
                     % {"title": article.title})
        parts.append(f"“{quote}”")
        parts.append(_("Read more: %(url)s") % {"url": url})
        parts.append(_("Did this solve your question? If not, a person from our team will "
                       "help you.") if channel == "chat" else
                     _("Did this solve your question? If not, just reply to this message "
                       "and a person from our team will help you."))
    return Decision(answer="\n\n".join(parts), article_id=article.pk, confidence=score,
                    handover=False, reason="answered", language=reply_in,
                    article_title=article.title, article_url=url, passage=quote,
                    best_article_id=article.pk)


def handover_text(language: str, reason: str = "low_confidence") -> str:
    with translation.override(language):
        if reason == "asked_for_human":
            return _("Of course. I am passing you to a person from our team; they will see "
                     "everything you wrote here.")
        if reason == "not_helpful":
            return _("Sorry that did not help. I am passing you to a person from our team; "
                     "they will see everything you wrote here.")
        return _("I could not find an answer I am sure of. I am passing you to a person from "
                 "our team; they will see everything you wrote here.")


def _handover(reason: str, language: str, score: float, *,
              article_id: int | None = None) -> Decision:
    return Decision(answer=handover_text(language, reason), article_id=None,
                    confidence=score, handover=True, reason=reason, language=language,
                    best_article_id=article_id)


def _quote(passage: str) -> str:
    passage = " ".join(passage.split())
    if len(passage) <= MAX_QUOTE_CHARS:
        return passage
    cut = passage[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0]
    return f"{cut} …"
