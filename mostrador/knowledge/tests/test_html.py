from mostrador.knowledge.html import html_to_text, sanitize_html


def test_article_html_keeps_structure_and_relative_links_and_drops_scripts():
    body = ('<h2 onclick="x()">Devoluciones</h2><script>alert(1)</script>'
            '<p>Lee <a href="/help/es/articulos/12-envios">envíos</a> y '
            '<a href="javascript:alert(1)">esto</a>.</p><img src="/media/kb/1.png" alt="Paso 1">'
            '<table><tr><td>Plazo</td><td>30 días</td></tr></table>')
    clean = sanitize_html(body)
    assert "<script" not in clean and "onclick" not in clean and "javascript:" not in clean
    assert '<a href="/help/es/articulos/12-envios" rel="noopener noreferrer">' in clean
    assert '<img src="/media/kb/1.png" alt="Paso 1">' in clean
    assert html_to_text(clean) == "Devoluciones\n\nLee envíos y esto.\nPaso 1\n\nPlazo 30 días"
