"""Which language a customer wrote in, Spanish or English, told apart by their most frequent
words. Routing (skills), triggers and the automatic answers use it; a customer's own language
setting wins when the text says nothing."""

from __future__ import annotations

import re

_WORD = re.compile(r"[a-záéíóúüñ]+")
# Frequent words that are rare in the other language ("a", "no", "me" are left out: both use
# them). Accents matter: "está", "qué" and "más" are strong Spanish signals.
_SPANISH = frozenset(str.split(
    "el la los las de del que y en un una por para con es está están estoy pero mi mis "
    "su sus lo le les se al como más muy ya hola gracias buenos buenas días tardes noches "
    "favor quiero necesito tengo puedo pueden podrían sería cuando dónde donde qué cómo "
    "porque pedido factura cuenta envío ayuda problema saludos atentamente usted ustedes "
    "nos este esta esto eso hace hay sin sobre también todavía aún"))
_ENGLISH = frozenset(str.split(
    "the and of to is are was were be been it this that with for on at from my your our "
    "you we they have has had do does did not can could would should will please thanks "
    "thank hello hi dear order invoice account help issue problem regards sincerely an "
    "what when where how why there here just still yet about"))
_SAMPLE = 4000


def detect_language(text: str) -> str:
    """"es", "en" or "" when the text gives too little to go on."""
    words = _WORD.findall(text[:_SAMPLE].lower())
    spanish = sum(1 for w in words if w in _SPANISH)
    english = sum(1 for w in words if w in _ENGLISH)
    if spanish + english < 2 or spanish == english:
        return ""
    return "es" if spanish > english else "en"
