"""``mostrador kb import``: JSON lines create or update articles, categories are created,
translations linked across the file, bad lines reported and skipped."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from mostrador.knowledge.models import Article, Category

LINES = [
    {"title": "Cambiar la contraseña", "body": "<p>Ve a Perfil.</p>", "language": "es",
     "external_id": "pw-es", "category": "Cuenta", "translation_of": "pw-en"},
    {"title": "Change your password", "body": "Go to Profile.", "language": "en",
     "external_id": "pw-en", "category": "cuenta"},
    "{not json",
    {"title": "Sin idioma", "body": "x"},
    {"title": "Horario", "body": "De 9 a 17.", "language": "es", "visibility": "internal",
     "category": "Soporte"},
    {"title": "Huérfano", "body": "x", "language": "en", "translation_of": "nowhere"},
    {"title": "Bad language", "body": "x", "language": "fr", "category": "Never made"},
]


def _write(tmp_path, lines) -> str:
    path = tmp_path / "kb.jsonl"
    path.write_text("\n".join(line if isinstance(line, str) else json.dumps(line)
                              for line in lines) + "\n\n", encoding="utf-8")
    return str(path)


def _run(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("kb", "import", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_creates_links_and_reports_bad_lines(db, tmp_path):
    out, err = _run(_write(tmp_path, LINES), "--json")
    summary = json.loads(out)
    assert {k: summary[k] for k in ("read", "created", "updated", "linked", "errors")} == {
        "read": 7, "created": 4, "updated": 0, "linked": 1, "errors": 4}
    assert summary["seconds"] >= 0
    problems = err.splitlines()
    assert [p.split(":")[0] for p in problems] == ["line 3", "line 4", "line 6", "line 7"]
    assert "language is missing" in problems[1] and "nowhere" in problems[2]
    assert "fr" in problems[3]
    spanish, english = Article.objects.get(external_id="pw-es"), \
        Article.objects.get(external_id="pw-en")
    assert spanish.translation_group_id == english.translation_group_id
    assert spanish.category == english.category == Category.objects.get(slug="cuenta")
    # The category of a rejected line was not kept.
    assert sorted(Category.objects.values_list("name", flat=True)) == ["Cuenta", "Soporte"]
    assert Article.objects.get(title="Horario").visibility == "internal"
    assert set(Article.objects.values_list("status", flat=True)) == {"draft"}
    assert english.body_html == "<p>Go to Profile.</p>"
    assert spanish.created_by is None and spanish.versions.get().note == "import"


def test_a_second_import_updates_by_external_id_and_publishes(db, tmp_path):
    _run(_write(tmp_path, LINES[:2]))
    changed = [{**LINES[0], "body": "<p>Ve a Perfil y pulsa Cambiar.</p>"}, LINES[1]]
    out, err = _run(_write(tmp_path, changed), "--publish", "--json")
    summary = json.loads(out)
    assert (summary["created"], summary["updated"], summary["linked"], summary["errors"]) \
        == (0, 2, 0, 0)
    assert err == ""
    spanish = Article.objects.get(external_id="pw-es")
    assert [v.number for v in spanish.versions.all()] == [2, 1]
    assert spanish.status == "published" and spanish.published_version == 2
    assert Article.objects.filter(status="published").count() == 2
    # Publishing again (already published) is no error.
    out, _err = _run(_write(tmp_path, changed), "--publish")
    assert out.startswith("read 2: 0 created, 2 updated, 0 translations linked, 0 errors")


def test_a_file_of_nothing_but_errors_fails(db, tmp_path):
    with pytest.raises(CommandError, match="nothing could be imported"):
        _run(_write(tmp_path, ["[1, 2]", "{}"]))
    with pytest.raises(CommandError, match="cannot read"):
        _run(str(tmp_path / "missing.jsonl"))
