"""The channel marks shown on each row: small inline SVGs, named for screen readers."""

from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

_SHAPES = {
    "email": (_("E-mail"), '<rect x="1.5" y="3.5" width="13" height="9" rx="1"/>'
                           '<path d="M2 4.5l6 4.5 6-4.5"/>'),
    "webchat": (_("Chat"), '<path d="M2.5 3h11v7.5h-6l-3 2.5v-2.5h-2z"/>'),
    "phone": (_("Phone"), '<rect x="4.5" y="1.5" width="7" height="13" rx="1.5"/>'
                          '<path d="M7 12.2h2"/>'),
    "webform": (_("Web form"), '<rect x="3" y="1.5" width="10" height="13" rx="1"/>'
                               '<path d="M5.5 5h5M5.5 8h5M5.5 11h3"/>'),
    "telegram": (_("Telegram"), '<path d="M14.5 2L1.5 7.3l4.4 1.6 1.6 4.6 2.3-2.9 3.4 2.4z"/>'),
    "whatsapp": (_("WhatsApp"), '<path d="M8 1.8a6.2 6.2 0 0 0-5.3 9.4L1.8 14.2l3.1-.8A6.2 6.2 '
                                '0 1 0 8 1.8z"/>'),
    "social": (_("Social"), '<circle cx="8" cy="8" r="6.2"/>'
                            '<path d="M1.8 8h12.4M8 1.8c2.2 2.2 2.2 10.2 0 12.4M8 1.8c-2.2 2.2'
                            '-2.2 10.2 0 12.4"/>'),
}
_OTHER = '<circle cx="8" cy="8" r="5.5"/>'


def channel_label(kind: str) -> str:
    shape = _SHAPES.get(kind)
    return str(shape[0]) if shape else kind


def channel_icon(kind: str) -> SafeString:
    """The mark for ``kind``; built per request, since the label follows the language."""
    label, shape = _SHAPES.get(kind, (kind, _OTHER))
    return format_html(
        '<svg class="channel-icon" viewBox="0 0 16 16" width="16" height="16" role="img" '
        'aria-label="{}" focusable="false"><title>{}</title>'
        '<g fill="none" stroke="currentColor" stroke-width="1.3" stroke-linejoin="round" '
        'stroke-linecap="round">{}</g></svg>',
        label, label, SafeString(shape))
