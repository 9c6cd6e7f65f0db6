import base64
import datetime as dt
import pathlib
import random

import pytest

from mostrador.channels.base import InboundMessage, ParseError
from mostrador.channels.email.parser import html_to_text, parse_email, sanitize_html

FIXTURES = pathlib.Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "mail"
OWN = frozenset({"soporte@acme.example", "Support@Acme.example"})


def parse(name: str, **kwargs) -> InboundMessage:
    return parse_email((FIXTURES / name).read_bytes(), **kwargs)


def message(headers: str, body: str = "Hola\n", *, extra: bytes = b"") -> bytes:
    """A small message built in the test; ``headers`` are written as given, one per line."""
    return (headers.strip("\n") + "\n\n" + body).encode("utf-8") + extra


PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


# --- clients -------------------------------------------------------------------------------


def test_gmail_reply_in_spanish():
    inbound = parse("gmail_reply_es.eml")

    assert inbound.sender_kind == "email"
    assert inbound.sender_id == "elena.martin.compras@gmail.com"
    assert inbound.sender_name == "Elena Martín"
    assert inbound.subject == "Re: [#1234] Factura duplicada del pedido ORD-448812"
    assert inbound.provider_id == "<CAJx8Qm1vG5b2nXk0Lw7p9hR3tYc4dE6fA+kq=Vs@mail.gmail.com>"
    assert inbound.references == [
        "<CAJx8Qm0pR4s7tU1vW3xY5zA2bC6dE9fG@mail.gmail.com>",
        "<mostrador.1234.5678.k3j2h1g0@desk.example.com>",
    ]
    assert inbound.conversation_number == 1234
    assert inbound.sent_at == dt.datetime(2026, 11, 12, 10, 30, 52, tzinfo=dt.UTC)
    assert inbound.recipients == ["soporte@acme.example"]
    assert inbound.noise == ""
    assert "¿Podrían añadir también el número de pedido" in inbound.text
    assert "> es 120,00 €." in inbound.text
    assert inbound.reply_text.startswith("Hola:\n\nMuchas gracias por la información.")
    assert inbound.reply_text.endswith("Un saludo,\nElena Martín")
    assert "escribió" not in inbound.reply_text
    assert "FAC-2026-0412" not in inbound.reply_text
    assert 'class="gmail_quote' not in inbound.html
    assert "<blockquote" in inbound.html


def test_gmail_new_message_in_english():
    inbound = parse("gmail_new_en.eml")

    assert inbound.sender_id == "frank.miller.carpentry@gmail.com"
    assert inbound.sender_name == "Frank Miller"
    assert inbound.subject == "Order ORD-771204 has not arrived"
    assert inbound.references == []
    assert inbound.conversation_number is None
    assert inbound.sent_at == dt.datetime(2026, 11, 12, 0, 2, 31, tzinfo=dt.UTC)
    assert inbound.recipients == ["support@acme.example"]
    assert inbound.cc == ["jane@millerandsons.example"]
    assert '"in transit" for nine' in inbound.text
    assert inbound.text.endswith("-- \nFrank Miller\nMiller & Sons Carpentry\n+1 555 0142 339")
    assert inbound.reply_text.endswith(
        "Could you tell me where it is or send a replacement?\n\nThanks,\nFrank"
    )
    assert (
        '<a href="https://track.example.net/parcels/ORD-771204" rel="noopener noreferrer '
        'nofollow">tracking page</a>' in inbound.html
    )


def test_outlook_reply_in_spanish_windows_1252():
    inbound = parse("outlook_reply_es.eml")

    assert inbound.sender_id == "elena@mueblesmartin.example"
    assert inbound.sender_name == "Elena Martín"
    assert inbound.subject == "RE: [#1307] Cobro duplicado del pedido ORD-552310"
    assert inbound.conversation_number == 1307
    assert "\r" not in inbound.text
    assert "el cargo de 49,90 € sigue apareciendo" in inbound.text
    assert "¿Pueden añadir una nota" in inbound.text
    assert "Necesito la información antes del viernes" in inbound.reply_text
    assert inbound.reply_text.endswith("Tel. +34 910 000 123")
    assert "De: Soporte Acme" not in inbound.reply_text
    assert "Hemos revisado" not in inbound.reply_text
    assert "49,90&nbsp;€" in inbound.html
    assert "<style" not in inbound.html
    assert "mso-style-type" not in inbound.html


def test_outlook_reply_in_english_with_underscore_separator():
    inbound = parse("outlook_reply_en.eml")

    assert inbound.sender_id == "frank.miller@millerandsons.example"
    assert inbound.subject == "Re: [#1290] Refund not received yet ($89.00)"
    assert inbound.provider_id == (
        "<PH0PR11MB5626D41E8A0C2B7F9E3A1C55B7A82@PH0PR11MB5626.namprd11.prod.outlook.com>"
    )
    assert inbound.references[-1] == "<mostrador.1290.9117.m9n8b7v6@desk.example.com>"
    assert inbound.conversation_number == 1290
    assert "________________________________\nFrom: Acme Support" in inbound.text
    assert inbound.reply_text.startswith("Hello,\n\nIt's been two weeks and the refund of $89.00")
    assert inbound.reply_text.endswith("Thanks,\nFrank Miller")
    assert "We have processed the refund" not in inbound.reply_text
    assert "Sent:" not in inbound.reply_text


def test_apple_mail_reply():
    inbound = parse("apple_mail_reply_en.eml")

    assert inbound.sender_id == "frank@miller.example"
    assert inbound.provider_id == "<9B8E2D47-1C3A-4F56-A0B9-7D2E5F1C8A63@miller.example>"
    assert inbound.conversation_number == 1188
    assert inbound.sent_at == dt.datetime(2026, 11, 13, 7, 14, 53, tzinfo=dt.UTC)
    assert "> On 12 Nov 2026, at 10:15, Acme Support <support@acme.example> wrote:" in (
        inbound.text
    )
    assert inbound.reply_text == (
        "Thanks, the replacement arrived today and works fine.\n\n"
        "One more thing: could you send the invoice again? I deleted it by mistake.\n\n"
        "Frank"
    )
    assert "<blockquote>" in inbound.html
    assert 'type="cite"' not in inbound.html


# --- charsets and transfer encodings -----------------------------------------------------


def test_latin1_quoted_printable_flowed():
    inbound = parse("latin1_plain_es.eml")

    assert inbound.sender_name == "Íñigo Núñez"
    assert inbound.subject == "Información sobre el envío del pedido ORD-604417"
    # format=flowed soft breaks are joined back into one paragraph line.
    assert (
        "En la web pone que está en reparto desde el lunes, pero el pingüino de peluche que "
        "compré para mi hijo pequeño todavía no ha llegado." in inbound.text
    )
    assert "¿Podrían añadir una nota" in inbound.reply_text


def test_latin1_raw_8bit_with_windows_1252_bytes():
    inbound = parse("latin1_8bit_es.eml")

    assert inbound.sender_name == "Begoña Ibáñez"
    assert inbound.subject == "Petición de presupuesto"
    assert "sillas de diseño “Nórdica”" in inbound.text
    assert "89 € por unidad…" in inbound.text
    assert "información sobre el plazo de entrega a Logroño" in inbound.text
    assert "\ufffd" not in inbound.text


def test_declared_utf8_that_is_windows_1252():
    inbound = parse("cp1252_lying_utf8.eml")

    assert inbound.sender_name == "Raúl Peña"
    assert inbound.subject == "Garantía del monitor"
    assert "Necesito información sobre la garantía" in inbound.text
    assert "Me cobraron 249 € y a las dos semanas dejó de encender…" in inbound.text
    assert "¿Pueden añadir la reparación" in inbound.text
    assert "\ufffd" not in inbound.text


def test_unknown_charset():
    inbound = parse("unknown_charset.eml")

    assert inbound.sender_name == "Sofía Gómez"
    assert "la aplicación me da el error E504-K22" in inbound.text
    assert "¿Me pueden dar información sobre cómo solucionarlo?" in inbound.text


def test_base64_body_and_mobile_signature():
    inbound = parse("base64_body_en.eml")

    assert inbound.sender_name == "Grace Hughes"
    assert inbound.recipients == ["support@acme.example"]
    assert "The café table I bought last week (order ORD-902113, €189.00)" in inbound.text
    assert inbound.text.endswith("Sent from my Galaxy")
    assert inbound.reply_text.endswith("Regards,\nGrace Hughes")


def test_rfc2047_encoded_headers():
    inbound = parse("rfc2047_headers.eml")

    # The subject's two base64 words split the bytes of "á"; they are joined before decoding.
    assert inbound.subject == "¿Dónde está mi pedido ORD-710210? — 3 días de retraso"
    assert inbound.sender_name == "José Ángel Pérez"
    assert inbound.sender_id == "j.perez@empresa.example"
    assert inbound.recipients == ["soporte@acme.example"]
    assert inbound.cc == [
        "mjose@empresa.example",
        "andres.ruiz@empresa.example",
        "compras@empresa.example",
    ]
    assert inbound.text == "Hola, ¿me pueden decir dónde está mi pedido?\n\nJosé Ángel"


def test_message_without_content_type_and_with_raw_utf8():
    raw = message(
        "From: elena@correo.example\nSubject: Añadir dirección\n", "Quiero añadir información.\n"
    )

    inbound = parse_email(raw)

    assert inbound.subject == "Añadir dirección"
    assert inbound.text == "Quiero añadir información."


def test_mixed_utf8_with_stray_windows_1252_bytes():
    raw = message("From: a@b.example\nContent-Type: text/plain; charset=utf-8\n", "") + (
        "Canción ".encode() + "añadir 5 €".encode("cp1252")
    )

    assert parse_email(raw).text == "Canción añadir 5 €"


# --- HTML ----------------------------------------------------------------------------------


FORBIDDEN_IN_HTML = [
    "<script",
    "onclick",
    "onload",
    "steal(",
    "<style",
    "<title",
    "phish.example",
    "tracker.example",
    "evil.example",
]


def test_html_only_message_is_sanitised_and_converted_to_text():
    inbound = parse("html_only_es.eml")

    assert inbound.sender_name == "Lucía Romero"
    assert inbound.conversation_number == 1420
    for forbidden in FORBIDDEN_IN_HTML:
        assert forbidden not in inbound.html
    assert '<img src="cid:captura-01@correo.example" alt="captura del error"' in inbound.html
    assert '<img src="https://cdn.tienda.example/logo.png" alt="logo">' in inbound.html
    assert 'rel="noopener noreferrer nofollow"' in inbound.html

    assert inbound.text.startswith("Hola equipo:\n\nOs mando la captura del error")
    assert "• borrar la caché del navegador,\n• usar otra tarjeta (la de 1.200 € de límite)." in (
        inbound.text
    )
    assert (
        "Más información en la página de incidencias "
        "(https://estado.tienda.example/incidencias/8812)." in inbound.text
    )
    assert "> ¿Nos puedes enviar una captura del error?" in inbound.text
    assert "window.location" not in inbound.text

    assert inbound.reply_text.endswith("Saludos,\nLucía")
    assert "Soporte Acme escribió" not in inbound.reply_text
    assert "¿Nos puedes enviar" not in inbound.reply_text

    [image] = inbound.attachments
    assert (image.filename, image.content_type, image.content_id, image.inline) == (
        "captura.png",
        "image/png",
        "captura-01@correo.example",
        True,
    )


def test_html_to_text_rules():
    html = (
        "<html><head><title>x</title></head><body><h1>Pedido</h1><p>Uno&nbsp;&amp;   dos"
        "<br>tres</p><ol><li>primero</li><li><p>segundo</p></li></ol>"
        '<p><a href="mailto:ana@acme.example">ana@acme.example</a> · '
        '<a href="https://acme.example/">https://acme.example</a> · '
        '<a href="https://acme.example/faq">FAQ</a></p>'
        "<table><tr><td>Total</td><td>12 €</td></tr></table><pre>a  b\n  c</pre></body></html>"
    )

    assert html_to_text(html) == (
        "Pedido\n\nUno & dos\ntres\n\n1. primero\n2. segundo\n\n"
        "ana@acme.example · https://acme.example · FAQ (https://acme.example/faq)\n\n"
        "Total 12 €\n\na  b\n  c"
    )


def test_sanitize_html_keeps_formatting_and_drops_active_content():
    html = (
        '<div style="color:red;position:fixed" onmouseover="x()"><b>ok</b>'
        '<a href="javascript:alert(1)">j</a><img src="data:image/png;base64,AAAA">'
        '<iframe src="https://evil.example"></iframe><form><input name="card"></form></div>'
    )

    assert sanitize_html(html) == (
        '<div style="color:red"><b>ok</b><a rel="noopener noreferrer nofollow">j</a><img></div>'
    )
    assert sanitize_html("   ") == ""


def test_outlook_web_markers_fold_the_history_from_html():
    html = (
        "<div>See my answer.</div><div id=appendonsend></div><hr>"
        '<div id="divRplyFwdMsg"><b>From:</b> Acme<br><b>Sent:</b> today</div>'
        "<div>Old text from the desk</div>"
    )
    raw = message(
        "From: frank@miller.example\nMIME-Version: 1.0\nContent-Type: text/html; charset=utf-8\n",
        html,
    )

    inbound = parse_email(raw)

    assert inbound.reply_text == "See my answer."
    assert "Old text from the desk" in inbound.text


def test_deeply_nested_html_keeps_only_its_text():
    html = "<div>" * 5000 + "hola" + "</div>" * 5000
    raw = message("From: a@b.example\nContent-Type: text/html\n", html)

    inbound = parse_email(raw)

    assert inbound.html == ""
    assert inbound.text == "hola"
    assert "HTML nested too deeply; only its text is kept" in inbound.extra["defects"]


# --- attachments ---------------------------------------------------------------------------


def test_attachments_inline_image_and_rfc2231_names():
    inbound = parse("attachments_es.eml")

    assert inbound.subject == "Presupuesto y fotos del daño"
    assert inbound.text.startswith("Hola:\n\nLes envío el presupuesto de la reparación")
    logo, quote, photo = inbound.attachments
    assert (logo.filename, logo.content_type, logo.inline) == ("image001.png", "image/png", True)
    assert logo.content_id == "image001.png@01DD3B4C.5A6E7F80"
    assert logo.data.startswith(b"\x89PNG\r\n\x1a\n")
    assert (quote.filename, quote.content_type, quote.inline) == (
        "Presupuesto reparación nº 12.pdf",
        "application/pdf",
        False,
    )
    assert quote.data.startswith(b"%PDF-1.4")
    assert quote.data.endswith(b"%%EOF\n")
    # Declared application/octet-stream; the bytes say PNG.
    assert (photo.filename, photo.content_type) == ("foto_daño.png", "image/png")
    assert len(photo.data) == 516
    assert inbound.skipped_attachments == []


def oversized_message(size: int) -> bytes:
    """A message with ``size`` bytes of attachment, built in memory."""
    data = (b"PK\x03\x04" + bytes(range(256)) * (size // 256 + 1))[:size]
    body = (
        "--sep\nContent-Type: text/plain; charset=utf-8\n\nLes envío los planos.\n"
        '--sep\nContent-Type: application/zip; name="planos.zip"\n'
        'Content-Disposition: attachment; filename="planos.zip"\n'
        "Content-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(data).decode("ascii")
        + "--sep--\n"
    )
    return message(
        "From: Marta Rubio <marta@mueblesrubio.example>\nSubject: Planos\nMIME-Version: 1.0\n"
        'Content-Type: multipart/mixed; boundary="sep"\n',
        body,
    )


def test_oversized_attachment_is_skipped_with_a_reason():
    limit = 2 * 1024 * 1024
    raw = oversized_message(limit + 200 * 1024)

    inbound = parse_email(raw, max_attachment_bytes=limit)

    assert inbound.text == "Les envío los planos."
    assert inbound.attachments == []
    [skipped] = inbound.skipped_attachments
    assert (skipped.filename, skipped.content_type, skipped.size) == (
        "planos.zip",
        "application/zip",
        limit + 200 * 1024,
    )
    assert skipped.reason == (
        "Attachment “planos.zip” (2.2 MB) is larger than the 2 MB limit; "
        "it is kept only in the raw message."
    )


def test_attachment_at_the_limit_is_kept():
    raw = oversized_message(3000)

    inbound = parse_email(raw, max_attachment_bytes=3000)

    assert [a.filename for a in inbound.attachments] == ["planos.zip"]
    assert parse_email(raw, max_attachment_bytes=2999).skipped_attachments[0].reason == (
        "Attachment “planos.zip” (3,000 bytes) is larger than the 2,999 bytes limit; "
        "it is kept only in the raw message."
    )


def test_forwarded_message_is_kept_as_eml():
    inbound = parse("forwarded_rfc822.eml")

    assert inbound.subject == "Fwd: Entrega fallida del envío ES123456789"
    assert inbound.text.startswith("Hola:\n\nOs reenvío el aviso de la mensajería.")
    assert "No hemos podido entregar" not in inbound.text
    [forwarded] = inbound.attachments
    assert (forwarded.filename, forwarded.content_type) == (
        "Entrega fallida.eml",
        "message/rfc822",
    )
    assert forwarded.data.startswith(b"Return-Path: <avisos@mensajeria.example>\n")
    inner = parse_email(forwarded.data)
    assert inner.subject == "Entrega fallida del envío ES123456789"
    assert inner.sender_id == "avisos@mensajeria.example"


def test_attached_message_without_a_name_is_named_after_its_subject():
    raw = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n",
        "--x\n\nVer adjunto.\n--x\nContent-Type: message/rfc822\n\n"
        "From: c@d.example\nSubject: Factura/marzo: pagada\n\nok\n--x--\n",
    )

    [attached] = parse_email(raw).attachments

    assert attached.filename == "Factura-marzo: pagada.eml"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ana\\factura.pdf", "factura.pdf"),
        (".htaccess", "htaccess"),
        ("", "attachment.pdf"),
    ],
)
def test_attachment_names_are_sanitised(filename, expected):
    raw = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n",
        "--x\n\nAdjunto.\n--x\nContent-Type: application/pdf\n"
        f'Content-Disposition: attachment; filename="{filename}"\n\n%PDF-1.4 x\n--x--\n',
    )

    [attachment] = parse_email(raw).attachments

    assert attachment.filename == expected


def test_declared_image_type_that_the_bytes_contradict_is_not_trusted():
    raw = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n",
        "--x\n\nAdjunto.\n--x\nContent-Type: image/png; name=foto.png\n"
        "Content-Disposition: attachment\n\n<html><script>alert(1)</script>\n--x--\n",
    )

    [attachment] = parse_email(raw).attachments

    assert attachment.content_type == "application/octet-stream"


# --- noise ---------------------------------------------------------------------------------


def test_out_of_office_auto_reply():
    inbound = parse("autoreply_out_of_office_es.eml")

    assert inbound.subject == (
        "Respuesta automática: RE: [#1307] Cobro duplicado del pedido ORD-552310"
    )
    assert inbound.noise == "automatic message (Auto-Submitted: auto-replied)"
    assert inbound.conversation_number == 1307
    assert inbound.extra["suppress_autoreply"] is True
    assert "Estaré fuera de la oficina hasta el 23 de noviembre" in inbound.text


def test_outlook_auto_reply_headers():
    inbound = parse("autoreply_outlook_en.eml")

    assert inbound.noise == "automatic reply (X-Autoreply)"
    assert inbound.conversation_number == 1290


def test_bulk_newsletter():
    inbound = parse("bulk_newsletter.eml")

    assert inbound.noise == "bulk or mailing-list mail (Precedence: bulk)"
    assert inbound.subject == "🎉 Ofertas de noviembre: hasta un 30 % de descuento"
    assert inbound.extra["reply_to"] == ["hola@oficinaplus.example"]
    assert "open.mailer.example" not in inbound.html
    assert "Ver ofertas: https://click.mailer.example/l/abc123?u=soporte" in inbound.text


def test_customer_mail_relayed_by_a_google_group_is_not_noise():
    inbound = parse("google_group_customer_es.eml", own_addresses=OWN)

    assert inbound.noise == ""
    assert (inbound.sender_id, inbound.sender_name) == (
        "elena.martin.compras@gmail.com",
        "Elena Martín",
    )
    assert inbound.subject == "Silla del pedido ORD-583301 con una pata rota"
    assert inbound.recipients == ["soporte@acme.example"]
    assert inbound.reply_text.startswith("Hola:\n\nEl lunes me llegó la silla de oficina")
    assert inbound.reply_text.endswith("Gracias,\nElena Martín")
    assert "Grupos de Google" in inbound.text
    assert "Grupos de Google" not in inbound.reply_text


def test_list_that_rewrote_from_gives_the_author_as_sender():
    # Google Groups and Mailman put the list's address in From when the author's domain
    # publishes a strict DMARC policy, and name the author in X-Original-From or Reply-To.
    list_headers = (
        "Precedence: list\nMailing-list: list soporte@acme.example; contact "
        "soporte+owners@acme.example\nList-Post: <mailto:soporte@acme.example>\n"
    )
    rewritten = (
        "From: 'Frank Miller' via Soporte <soporte@acme.example>\n"
        "Reply-To: Frank Miller <frank@miller.example>\nSubject: Refund\n"
    )
    with_original = rewritten + "X-Original-From: Frank Miller <Frank@Miller.example>\n"

    for raw in (message(with_original + list_headers), message(rewritten + list_headers)):
        inbound = parse_email(raw, own_addresses=OWN)

        assert (inbound.sender_id, inbound.sender_name) == ("frank@miller.example", "Frank Miller")
        assert inbound.noise == ""
    # Reply-To may be the group itself; Google Groups still names the author.
    only_sender = (
        "From: 'Frank Miller' via Soporte <soporte@acme.example>\n"
        "Reply-To: soporte@acme.example\nX-Original-Sender: frank@miller.example\n"
    )
    inbound = parse_email(message(only_sender + list_headers), own_addresses=OWN)
    assert (inbound.sender_id, inbound.noise) == ("frank@miller.example", "")
    # Without list headers, a From of our own address is still ours.
    own = parse_email(message(with_original), own_addresses=OWN)
    assert own.sender_id == "soporte@acme.example"
    assert own.noise == "sent from one of our own addresses"


def test_delivery_status_notification():
    inbound = parse("bounce_dsn.eml", own_addresses=OWN)

    assert inbound.sender_id == "mailer-daemon@mx.desk.example.com"
    assert inbound.sender_name == "Mail Delivery System"
    assert inbound.noise == "delivery status notification (bounce)"
    assert inbound.bounce_of == "<mostrador.41.977.abc123@desk.example.com>"
    assert inbound.bounce_reason == "5.1.1 smtp; 550 5.1.1 user unknown"
    assert inbound.conversation_number == 41
    assert inbound.attachments == []
    assert "could not\nbe delivered" in inbound.text


def test_bounce_with_returned_message_and_folded_diagnostic():
    raw = message(
        "From: Mail Delivery Subsystem <MAILER-DAEMON@googlemail.com>\n"
        "Subject: Delivery Status Notification (Failure)\n"
        'Content-Type: multipart/report; report-type="delivery-status"; boundary="r"\n',
        "--r\nContent-Type: text/plain\n\nAddress not found\n"
        "--r\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; googlemail.com\n\n"
        "Final-Recipient: rfc822; a@b.example\nAction: delayed\nStatus: 4.4.1\n\n"
        "Final-Recipient: rfc822; c@d.example\nAction: failed\nStatus: 5.2.2\n"
        "Diagnostic-Code: smtp; 552-5.2.2 The email account that you tried to reach is\n"
        "    over quota.\n"
        "--r\nContent-Type: message/rfc822\n\n"
        "From: soporte@acme.example\nMessage-ID: <mostrador.7.70.zz9@desk.example.com>\n"
        "Subject: x\n\nbody\n--r--\n",
    )

    inbound = parse_email(raw)

    assert inbound.bounce_of == "<mostrador.7.70.zz9@desk.example.com>"
    assert inbound.bounce_reason == (
        "5.2.2 smtp; 552-5.2.2 The email account that you tried to reach is over quota."
    )
    assert inbound.conversation_number == 7


def test_mail_from_our_own_address_is_noise():
    raw = message("From: Soporte Acme <SOPORTE@acme.example>\nSubject: prueba\n")

    inbound = parse_email(raw, own_addresses=OWN)

    assert inbound.noise == "sent from one of our own addresses"
    assert parse_email(raw).noise == ""


def test_our_own_message_coming_back_is_noise():
    raw = message("From: a@b.example\nMessage-ID: <mostrador.5.50.abcdefgh@desk.example.com>\n")

    assert parse_email(raw).noise == "one of our own messages came back (its Message-ID is ours)"


@pytest.mark.parametrize(
    ("header", "noise"),
    [
        ("Auto-Submitted: auto-generated", "automatic message (Auto-Submitted: auto-generated)"),
        ("Auto-Submitted: Auto-Replied; x=1", "automatic message (Auto-Submitted: auto-replied)"),
        ("X-Autorespond: vacation", "automatic reply (X-Autorespond)"),
        ("Precedence: junk", "bulk or mailing-list mail (Precedence: junk)"),
        ("Precedence: auto_reply", "automatic reply (Precedence: auto_reply)"),
        (
            "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
            "generated by Exchange (Mailbox Rules Agent)",
        ),
        ("Return-Path: <>", "notification sent with an empty Return-Path"),
    ],
)
def test_headers_that_mark_automatic_mail(header, noise):
    raw = message(f"From: elena@correo.example\nSubject: Hola\n{header}\n")

    assert parse_email(raw).noise == noise


@pytest.mark.parametrize(
    "header",
    [
        "Auto-Submitted: no",
        "X-Auto-Response-Suppress: All",
        "Precedence: first-class",
        "X-Autoreply: no",
        "Return-Path: <elena@correo.example>",
        # A support address run as a Google Group or another list adds these to every
        # customer's mail.
        "Precedence: list\nList-Id: <v.example>",
        "List-Unsubscribe: <https://x.example/u>",
        "Mailing-list: list soporte@acme.example; contact soporte+owners@acme.example",
    ],
)
def test_headers_that_do_not_mark_automatic_mail(header):
    raw = message(f"From: elena@correo.example\nSubject: Hola\n{header}\n")

    assert parse_email(raw).noise == ""


def test_auto_response_suppress_is_passed_on_as_a_request():
    raw = message("From: elena@correo.example\nX-Auto-Response-Suppress: OOF, AutoReply\n")

    assert parse_email(raw).extra == {"suppress_autoreply": True, "synthetic_message_id": True}


def test_plain_text_bounce_from_a_mailer_daemon():
    raw = message(
        "From: Mail Delivery System <Mailer-Daemon@mx.correo.example>\nSubject: failure\n",
        "This message was created automatically by mail delivery software.\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        "Message-ID: <mostrador.9.90.qwertyui@desk.example.com>\nSubject: Re: x\n",
    )

    inbound = parse_email(raw)

    assert inbound.noise == "sent by a mail server (mailer-daemon)"
    assert inbound.bounce_of == "<mostrador.9.90.qwertyui@desk.example.com>"


@pytest.mark.parametrize(
    "subject", ["Automatic reply: RE: pedido", "Respuesta automática: pedido", "Out of Office: x"]
)
def test_auto_reply_subjects(subject):
    raw = message(f"From: a@b.example\nSubject: {subject}\n")

    assert parse_email(raw).noise == "automatic reply (subject)"


def test_a_reply_to_an_auto_reply_is_not_noise():
    raw = message("From: a@b.example\nSubject: Re: Automatic reply: pedido\n")

    assert parse_email(raw).noise == ""


# --- identity, threading, dates ------------------------------------------------------------


def test_message_without_message_id_gets_a_stable_synthetic_id():
    raw = (FIXTURES / "no_message_id.eml").read_bytes()

    first, again = parse_email(raw), parse_email(raw)
    other = parse_email(raw + b"\n")

    assert first.provider_id == again.provider_id
    assert first.provider_id.startswith("<sha256-")
    assert first.provider_id.endswith("@mostrador.invalid>")
    assert len(first.provider_id) == len("<sha256-@mostrador.invalid>") + 64
    assert other.provider_id != first.provider_id
    assert first.extra["synthetic_message_id"] is True
    assert first.sender_name == "Carmen Serrano"
    assert first.text == "Adjunto el albaran firmado del pedido ORD-227730.\n\nCarmen Serrano"


def test_references_are_oldest_first_with_in_reply_to_last():
    raw = message(
        "From: a@b.example\nMessage-ID: <self@b.example>\n"
        "References: <r1@x> <mostrador.3.1.aaaa@desk.example.com> <r2@x>\n"
        " <mostrador.4.2.bbbb@desk.example.com> <self@b.example>\n"
        "In-Reply-To: <r2@x>\nSubject: Re: [#99] pedido\n"
    )

    inbound = parse_email(raw)

    assert inbound.references == [
        "<r1@x>",
        "<mostrador.3.1.aaaa@desk.example.com>",
        "<mostrador.4.2.bbbb@desk.example.com>",
        "<r2@x>",
    ]
    assert inbound.conversation_number == 4


def test_subject_token_is_used_without_our_references():
    raw = message("From: a@b.example\nIn-Reply-To: <foreign@x>\nSubject: RE: [# 77] Pedido\n")

    assert parse_email(raw).conversation_number == 77


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Thu, 12 Nov 2026 11:30:52 +0100", dt.datetime(2026, 11, 12, 10, 30, 52, tzinfo=dt.UTC)),
        ("12 Nov 2026 10:30:52 -0000", dt.datetime(2026, 11, 12, 10, 30, 52, tzinfo=dt.UTC)),
        ("Thu, 12 Nov 26 05:30 EST", dt.datetime(2026, 11, 12, 10, 30, tzinfo=dt.UTC)),
        ("mañana por la tarde", None),
        ("Thu, 31 Feb 2026 10:00:00 +0000", None),
    ],
)
def test_dates_are_aware_utc_or_none(value, expected):
    raw = message(f"From: a@b.example\nDate: {value}\n")

    assert parse_email(raw).sent_at == expected


def test_sender_falls_back_to_reply_to_when_from_is_unusable():
    raw = message(
        "From: undisclosed\nReply-To: =?utf-8?Q?Elena_Mart=C3=ADn?= <Elena@Correo.example>\n"
    )

    inbound = parse_email(raw)

    assert (inbound.sender_id, inbound.sender_name) == ("elena@correo.example", "Elena Martín")


def test_sender_falls_back_to_return_path():
    raw = message("Return-Path: <frank@miller.example>\nSubject: sin remitente\n")

    assert parse_email(raw).sender_id == "frank@miller.example"


def test_broken_from_header_still_yields_the_address():
    raw = message("From: Frank Miller frank@miller.example <broken\n")

    assert parse_email(raw).sender_id == "frank@miller.example"


# --- broken input --------------------------------------------------------------------------


def test_missing_closing_boundary_keeps_what_is_there():
    inbound = parse("broken_mime.eml")

    assert inbound.subject == "Factura FAC-2026-0931 con el NIF mal"
    assert "En la factura FAC-2026-0931 falta la razón social" in inbound.text
    [pdf] = inbound.attachments
    assert (pdf.filename, pdf.content_type) == ("FAC-2026-0931.pdf", "application/pdf")
    assert pdf.data.startswith(b"%PDF-1.4")
    assert inbound.extra["defects"] == ["missing closing boundary"]


def test_multipart_without_boundary_is_read_as_text():
    raw = message("From: a@b.example\nContent-Type: multipart/mixed\n", "Solo texto.\n")

    inbound = parse_email(raw)

    assert inbound.text == "Solo texto."
    assert "multipart without a usable boundary" in inbound.extra["defects"]


def test_header_section_ended_by_a_non_header_line():
    raw = b"From: a@b.example\nSubject: hola\nthis line is no header\nmore body\n"

    inbound = parse_email(raw)

    assert inbound.subject == "hola"
    assert inbound.text == "this line is no header\nmore body"


def test_mbox_separator_line_and_crlf_are_tolerated():
    raw = b"From a@b.example Thu Nov 12 10:00:00 2026\r\nFrom: a@b.example\r\n\r\nhola\r\n"

    assert parse_email(raw).text == "hola"


def test_not_an_email_raises_parse_error():
    with pytest.raises(ParseError, match="does not look like an e-mail"):
        parse("malformed_garbage.eml")


@pytest.mark.parametrize("raw", [b"", b"   \r\n\t", bytearray()])
def test_empty_payload_raises_parse_error(raw):
    with pytest.raises(ParseError, match="empty"):
        parse_email(raw)


def test_payload_that_is_not_bytes_raises_parse_error():
    with pytest.raises(ParseError, match="bytes"):
        parse_email("From: a@b.example\n\nhola")  # type: ignore[arg-type]


def test_headers_without_a_sender_raise_parse_error():
    with pytest.raises(ParseError, match="no usable sender address"):
        parse_email(b"Subject: hola\nTo: soporte@acme.example\n\ncuerpo\n")


def mutations(raw: bytes, seed: int) -> list[bytes]:
    """Truncations at several offsets and copies with bytes flipped, inserted or removed."""
    rng = random.Random(seed)
    variants = [raw[:cut] for cut in range(0, len(raw), max(1, len(raw) // 12))]
    inserts = [b"\n", b"\r\n", b"--", b"=?", b"?=", b";", b'"', b"\x00", b"\xff", b"\n\n"]
    for _ in range(25):
        data = bytearray(raw)
        for _ in range(rng.randint(1, 12)):
            position = rng.randrange(len(data) or 1)
            choice = rng.random()
            if choice < 0.5 and data:
                data[position] = rng.randrange(256)
            elif choice < 0.75:
                data[position:position] = rng.choice(inserts)
            else:
                del data[position : position + rng.randint(1, 40)]
        variants.append(bytes(data))
    return variants


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.eml")), ids=lambda path: path.name)
def test_truncated_and_mutated_fixtures_parse_or_raise_parse_error(path):
    raw = path.read_bytes()
    for variant in mutations(raw, seed=len(raw)):
        try:
            result = parse_email(variant)
        except ParseError as exc:
            error = str(exc)
        else:
            assert isinstance(result, InboundMessage)
            assert result.sender_id
            assert result.provider_id
            continue
        # Only the documented refusals; an internal failure would read "could not be read".
        assert error.startswith(("the payload", "the e-mail has no usable sender")), error


def test_every_fixture_but_the_garbage_parses():
    names = {path.name for path in FIXTURES.glob("*.eml")}
    assert len(names) >= 22

    for name in sorted(names - {"malformed_garbage.eml"}):
        inbound = parse(name)
        assert inbound.sender_id, name
        assert inbound.reply_text or inbound.attachments, name
