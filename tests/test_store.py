"""Loading triple files: the three formats, names as written, and bad input named by file and line."""

import json

import pytest

from kg.store import KGFormatError, KnowledgeGraph


def test_pipe_file_loads_with_names_exactly_as_written(small_kg):
    assert small_kg.report.triples == 21
    assert "Amélie" in small_kg.ids and "Jean-Pierre Jeunet" in small_kg.ids
    assert sorted(small_kg.neighbours("Heat", "starred_actors")) == ["Al Pacino", "Robert De Niro"]
    assert sorted(small_kg.neighbours("Robert De Niro", "~starred_actors")) == ["Heat", "Taxi Driver", "The Irishman"]


def test_tsv_and_jsonl_give_the_same_graph(tmp_path, small_kb, small_kg):
    lines = small_kb.read_text(encoding="utf-8").splitlines()
    tsv = tmp_path / "movies.tsv"
    tsv.write_text("\n".join(line.replace("|", "\t") for line in lines), encoding="utf-8")
    jsonl = tmp_path / "movies.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(dict(zip(("head", "relation", "tail"), line.split("|"))), ensure_ascii=False) for line in lines),
        encoding="utf-8",
    )
    for path, fmt in ((tsv, "tsv"), (jsonl, "jsonl")):
        kg = KnowledgeGraph.load(path)
        assert kg.report.format == fmt
        assert set(kg.names) == set(small_kg.names)
        assert kg.report.triples == small_kg.report.triples


def test_networkx_graph_has_every_edge_keyed_by_relation(small_kg):
    g = small_kg.graph
    assert g.number_of_edges() == 21
    assert g.has_edge("Taxi Driver", "Martin Scorsese", key="starred_actors")
    assert g.has_edge("Taxi Driver", "Martin Scorsese", key="directed_by")


def test_duplicates_are_collapsed_and_counted(tmp_path):
    path = tmp_path / "dup.txt"
    path.write_text("a|r|b\na|r|b\na|r|c\n\n", encoding="utf-8")
    kg = KnowledgeGraph.load(path)
    assert (kg.report.triples, kg.report.duplicates, kg.report.blank_lines) == (2, 1, 1)


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("bad.txt", "a|r|b\na|r\n", "bad.txt:2: expected 'head|relation|tail' (3 fields), got 2 field(s)"),
        ("bad.txt", "a|r|b\n|r|b\n", "bad.txt:2: expected 'head|relation|tail' with no empty field"),
        ("bad.tsv", "a\tr\tb\na\tr\tb\tc\n", "bad.tsv:2: expected 'head<TAB>relation<TAB>tail' (3 fields), got 4"),
        ("bad.jsonl", '{"head": "a", "relation": "r", "tail": "b"}\n{"head": "a"\n', "bad.jsonl:2: expected a JSON object"),
        ("bad.jsonl", '{"head": "a", "relation": "r", "tail": 3}\n', "bad.jsonl:1: expected non-empty string fields head, relation, tail; bad or missing: tail"),
        ("bad.txt", "a|~r|b\n", "bad.txt:1: relation names may not start with '~'"),
    ],
)
def test_malformed_line_names_file_line_and_expectation(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KGFormatError) as caught:
        KnowledgeGraph.load(path)
    assert str(caught.value).startswith(str(tmp_path / expected.split(":")[0]))
    assert expected.split(":", 1)[1] in str(caught.value)


def test_skip_bad_lines_counts_them_and_keeps_the_rest(tmp_path, caplog):
    path = tmp_path / "bad.txt"
    path.write_text("a|r|b\nbroken line\nc|r|d\nx|y\n", encoding="utf-8")
    kg = KnowledgeGraph.load(path, skip_bad_lines=True)
    assert kg.report.bad_lines == 2 and kg.report.triples == 2
    assert "skipped 2 malformed line(s)" in caplog.text and "line 2" in caplog.text


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="knowledge graph file not found"):
        KnowledgeGraph.load(tmp_path / "nope.txt")


@pytest.mark.metaqa
def test_metaqa_kb_loads_whole(metaqa_kg):
    assert (len(metaqa_kg.names), len(metaqa_kg.relations), len(metaqa_kg.triples)) == (43234, 9, 133582)
    assert metaqa_kg.report.duplicates == 0 and metaqa_kg.report.bad_lines == 0
