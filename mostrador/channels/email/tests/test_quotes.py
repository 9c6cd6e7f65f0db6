import pytest

from mostrador.channels.email.quotes import fold_quotes, split_quotes


def test_english_attribution_and_quoted_lines_are_folded():
    text = (
        "Thanks, that fixed it.\n\n"
        "On Thu, Nov 12, 2026 at 10:15 AM Acme Support <support@acme.example> wrote:\n\n"
        "> Hi Frank,\n> please restart the router.\n"
    )

    assert fold_quotes(text) == "Thanks, that fixed it."


def test_attribution_wrapped_over_two_lines_is_folded():
    text = (
        "Gracias, ya funciona.\n\n"
        "El jue, 12 nov 2026 a las 10:15, Soporte Acme (<\n"
        "soporte@acme.example>) escribió:\n\n"
        "> Hola, Elena:\n> pruebe a reiniciar.\n"
    )

    new, folded = split_quotes(text)

    assert new == "Gracias, ya funciona."
    assert folded.startswith("El jue, 12 nov 2026")
    assert "> pruebe a reiniciar." in folded


def test_attribution_without_accent_is_recognised():
    text = "Perfecto.\n\nEl 12/11/2026 a las 10:15, Ana escribio:\n> Hola\n"

    assert fold_quotes(text) == "Perfecto."


def test_attribution_followed_by_unquoted_history_cuts_there():
    text = "Vale, gracias.\n\nEl 12 nov 2026, a las 10:15, Soporte escribió:\n\nHola, Elena\n"

    assert fold_quotes(text) == "Vale, gracias."


@pytest.mark.parametrize(
    "banner",
    [
        "-----Original Message-----",
        "-----Mensaje original-----",
        "----- Original Message -----",
        "---------- Forwarded message ---------",
        "-------- Mensaje reenviado --------",
        "Begin forwarded message:",
    ],
)
def test_original_message_banners(banner):
    text = f"See below.\n\n{banner}\nFrom: Acme <support@acme.example>\nQuoted text\n"

    assert fold_quotes(text) == "See below."


def test_outlook_header_block_with_underscore_separator():
    text = (
        "Still waiting for the refund.\n\n"
        "________________________________\n"
        "From: Acme Support <support@acme.example>\n"
        "Sent: Thursday, November 12, 2026 10:15 AM\n"
        "To: Frank Miller <frank@miller.example>\n"
        "Subject: RE: [#1290] Refund\n\n"
        "Hi Frank,\n"
    )

    new, folded = split_quotes(text)

    assert new == "Still waiting for the refund."
    assert folded.startswith("________________________________\nFrom: Acme Support")


@pytest.mark.parametrize("sent", ["Enviado", "Enviado el", "Fecha"])
def test_spanish_outlook_header_block(sent):
    text = (
        "Les confirmo el cargo duplicado.\n\n"
        "De: Soporte Acme <soporte@acme.example>\n"
        f"{sent}: jueves, 12 de noviembre de 2026 10:15\n"
        "Para: Elena Martín <elena@mueblesmartin.example>\n"
        "Asunto: RE: [#1307] Cobro duplicado\n\n"
        "Hola, Elena:\n"
    )

    assert fold_quotes(text) == "Les confirmo el cargo duplicado."


def test_a_from_line_alone_is_not_a_header_block():
    text = "Envío:\nFrom: Madrid\nTo: Sevilla\nPeso: 3 kg\n"

    assert fold_quotes(text) == text.strip()


@pytest.mark.parametrize(
    "signature",
    [
        "-- \nFrank Miller\nMiller & Sons",
        "--\nFrank",
        "Sent from my iPhone",
        "Sent from my Samsung Galaxy smartphone.",
        "Enviado desde mi iPhone",
        "Enviado desde mi teléfono",
        "Enviado desde mi móvil Huawei",
        "Get Outlook for iOS",
        "Get Outlook for Android<https://aka.ms/AAb9ysg>",
        "Obtener Outlook para Android",
    ],
)
def test_signatures_are_folded(signature):
    text = f"The parcel arrived damaged.\n\n{signature}\n"

    assert fold_quotes(text) == "The parcel arrived damaged."


@pytest.mark.parametrize(
    "line",
    [
        "Sent from the warehouse on Monday, the parcel never arrived.",
        "El transportista me escribió:",
        "Enviado desde el almacén de Sevilla el lunes.",
    ],
)
def test_ordinary_sentences_are_not_taken_for_markers(line):
    text = f"Hola,\n{line}\nque llegaría mañana.\n"

    assert fold_quotes(text) == text.strip()


def test_signature_before_the_quote_is_folded_with_it():
    text = (
        "Thanks!\n\nSent from my iPhone\n\n"
        "On 12 Nov 2026, at 10:15, Acme Support <support@acme.example> wrote:\n\n> Hi\n"
    )

    new, folded = split_quotes(text)

    assert new == "Thanks!"
    assert folded.startswith("Sent from my iPhone")


def test_inline_reply_keeps_the_questions_with_the_answers():
    text = (
        "Hi,\n\nanswers inline.\n\n"
        "On Thu, 12 Nov 2026 at 10:15, Ana <support@acme.example> wrote:\n"
        "> Which model is it?\n"
        "The 4K monitor.\n"
        "> When did you buy it?\n"
        "In March.\n\n"
        "> Best regards,\n> Ana\n"
    )

    new, folded = split_quotes(text)

    assert new.startswith("Hi,\n\nanswers inline.")
    assert "> Which model is it?\nThe 4K monitor.\n> When did you buy it?\nIn March." in new
    assert folded == "> Best regards,\n> Ana"


def test_bottom_posted_reply_keeps_only_the_new_text():
    text = "On Thu, 12 Nov 2026 Ana wrote:\n> Which model?\n\nThe 4K monitor.\n\n-- \nFrank\n"

    new, folded = split_quotes(text)

    assert new == "The 4K monitor."
    assert folded.startswith("On Thu, 12 Nov 2026 Ana wrote:\n> Which model?")
    assert folded.endswith("--\nFrank")


def test_everything_quoted_returns_the_whole_text():
    text = "> only a quote\n> nothing else\n\n"

    assert split_quotes(text) == ("> only a quote\n> nothing else", "")


def test_a_message_that_is_only_a_signature_is_kept_whole():
    assert fold_quotes("Sent from my iPhone\n") == "Sent from my iPhone"


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t\n"])
def test_blank_text_gives_empty_parts(text):
    assert split_quotes(text) == ("", "")


def test_trailing_whitespace_and_crlf_are_normalised():
    text = "Hola:   \r\n\r\nNecesito la factura.  \r\n\r\n\r\n"

    assert fold_quotes(text) == "Hola:\n\nNecesito la factura."


def test_text_without_quotes_is_returned_stripped():
    text = "\n\nHello,\n\nmy order has not arrived.\n\nFrank\n\n"

    assert split_quotes(text) == ("Hello,\n\nmy order has not arrived.\n\nFrank", "")
