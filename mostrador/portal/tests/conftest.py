"""A small help center: two categories (one with a section), articles in Spanish and English
linked as translations, and the ones readers must never see (a draft, an internal article)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from mostrador.knowledge import actions, semantic
from mostrador.knowledge.models import Article, Category
from mostrador.portal import limits

CLIENT_ADDRESS = "127.0.0.1"  # what Django's test client sends as REMOTE_ADDR

REFUNDS_ES = ("Devoluciones y reembolsos", """
<p>Tienes 30 días desde la entrega para devolver un producto sin usar.</p>
<h2>Cuándo recibo el reembolso</h2>
<p>Emitimos el reembolso cuando el paquete llega al almacén; tarda de 3 a 5 días hábiles en
aparecer en tu tarjeta.</p>
<ol><li>Abre el pedido.</li><li>Pulsa <strong>Devolver productos</strong>.</li></ol>""")
REFUNDS_EN = ("Returns and refunds", """
<p>You have 30 days from delivery to return an unused item.</p>
<h2>When will I get my refund?</h2>
<p>We issue the refund when the parcel reaches the warehouse; it takes 3 to 5 working days to
show on your card.</p>""")
ADDRESS_ES = ("Cambiar la dirección de entrega", """
<p>Mientras el pedido esté en preparación puedes cambiar la dirección de entrega desde
Mi cuenta, en Pedidos. Si ya ha salido, pedimos a la agencia que lo desvíe.</p>""")
INVOICE_ES = ("Descargar una factura", """
<p>Las facturas de tus pedidos están en Mi cuenta › Facturas, en PDF, desde que el pedido
sale del almacén.</p>""")
PASSWORD_EN = ("Resetting your password", """
<p>On the sign-in page choose "Forgot your password?" and we e-mail you a link that is valid
for 30 minutes.</p>""")
INTERNAL_ES = ("Guía interna de reembolsos manuales", """
<p>Para lanzar un reembolso manual abre la pasarela y busca la referencia del pedido.</p>""")
DRAFT_ES = ("Borrador: reembolsos en tarjetas regalo", """
<p>Los reembolsos de tarjetas regalo todavía no están decididos.</p>""")


@dataclasses.dataclass
class HelpCenter:
    orders: Category
    billing: Category
    refunds_es: Article
    refunds_en: Article
    address_es: Article
    invoice_es: Article
    password_en: Article
    internal_es: Article
    draft_es: Article


@pytest.fixture(autouse=True)
def _static_root(settings):
    # WhiteNoise warns (an error here) when STATIC_ROOT is missing, as in a fresh data folder.
    Path(settings.STATIC_ROOT).mkdir(parents=True, exist_ok=True)


@pytest.fixture(autouse=True)
def _fresh_request_counters():
    # Redis keeps counters between tests (and runs); each test starts with none.
    limits.forget(CLIENT_ADDRESS)
    yield
    limits.forget(CLIENT_ADDRESS)


def publish(desk, title_body, language, **kwargs) -> Article:
    title, body = title_body
    article = actions.do_create_article(title=title, body=body, language=language,
                                        acting_user=desk.carla, **kwargs)
    return actions.do_publish_article(article, acting_user=desk.carla)


@pytest.fixture
def help_center(desk, django_capture_on_commit_callbacks) -> HelpCenter:
    semantic.forget()
    with django_capture_on_commit_callbacks(execute=True):
        orders = actions.do_create_category(
            "Pedidos", name_translations={"es": "Pedidos", "en": "Orders"},
            acting_user=desk.carla)
        billing = actions.do_create_category("Facturación", acting_user=desk.carla)
        returns = actions.do_create_section(orders, "Devoluciones", acting_user=desk.carla)
        refunds_es = publish(desk, REFUNDS_ES, "es", section=returns)
        refunds_en = publish(desk, REFUNDS_EN, "en", section=returns,
                             translation_of=refunds_es)
        address_es = publish(desk, ADDRESS_ES, "es", category=orders)
        invoice_es = publish(desk, INVOICE_ES, "es", category=billing)
        password_en = publish(desk, PASSWORD_EN, "en")
        internal_es = publish(desk, INTERNAL_ES, "es", category=orders, visibility="internal")
        draft_es = actions.do_create_article(title=DRAFT_ES[0], body=DRAFT_ES[1],
                                             language="es", category=orders,
                                             acting_user=desk.carla)
    return HelpCenter(orders, billing, refunds_es, refunds_en, address_es, invoice_es,
                      password_en, internal_es, draft_es)
