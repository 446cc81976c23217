"""Relative morphology files of cell types (docs/layers.md) are resolved against the config's
folder and are inputs, as a population's own morphology file is."""

from lfpk.model.paths import input_files, morphology_entries, resolve_paths


def test_cell_type_morphologies_resolved_against_config_folder(tmp_path):
    cfg = {"populations": {
        "E": {"morphology": {"file": "cells/E.hoc"},
              "cell_types": {"p": {"occurrence": 0.5, "morphology": {"file": "cells/p.hoc"}},
                             "q": {"occurrence": 0.5, "morphology": {"file": str(tmp_path / "abs.hoc")}},
                             "r": "not a mapping"}},
        "I": {"morphology": {"soma": {"length": 10.0, "diam": 10.0}}},
        "broken": 5,
    }}
    out = resolve_paths(cfg, tmp_path / "config")
    types = out["populations"]["E"]["cell_types"]
    assert types["p"]["morphology"]["file"] == str(tmp_path / "config" / "cells" / "p.hoc")
    assert types["q"]["morphology"]["file"] == str(tmp_path / "abs.hoc")  # absolute kept
    assert out["populations"]["E"]["morphology"]["file"] == str(tmp_path / "config" / "cells" / "E.hoc")
    assert cfg["populations"]["E"]["cell_types"]["p"]["morphology"]["file"] == "cells/p.hoc"  # input untouched
    assert types["r"] == "not a mapping" and out["populations"]["broken"] == 5  # left to the validator


def test_input_files_name_every_cell_type_file(tmp_path):
    cfg = resolve_paths({"populations": {
        "E": {"morphology": {"file": "E.hoc"},
              "cell_types": {"p": {"morphology": {"file": "p.hoc"}}, "q": {"occurrence": 1.0}}},
        "I": {"cell_types": {"b": {"morphology": {"file": "b.hoc"}}}},
    }}, tmp_path)
    assert input_files(cfg) == sorted(str(tmp_path / n) for n in ("E.hoc", "p.hoc", "b.hoc"))
    assert input_files(cfg, populations=["I"]) == [str(tmp_path / "b.hoc")]
    assert len(morphology_entries(cfg["populations"]["E"])) == 2


def test_fetch_sources_include_cell_types_once_per_file(tmp_path):
    from lfpk.model.morphology.fetch import sources

    pin = {"url": "https://example.org/a.hoc", "sha256": "0" * 64}
    cfg = resolve_paths({"populations": {
        "E": {"cell_types": {"p": {"morphology": {"file": "a.hoc", **pin}},
                             "q": {"morphology": {"file": "a.hoc", **pin}},  # the same file again
                             "r": {"morphology": {"file": "local.hoc"}}}},  # no url: not fetched
        "I": {"morphology": {"file": "b.hoc", "url": "https://example.org/b.hoc", "sha256": "1" * 64}},
    }}, tmp_path)
    got = sources(cfg)
    assert [(s.population, s.cell_type, s.file) for s in got] == [
        ("E", "p", str(tmp_path / "a.hoc")), ("I", None, str(tmp_path / "b.hoc"))]
    assert got[0].what == "populations.E.cell_types.p.morphology" and got[1].what == "populations.I.morphology"
    assert sources(cfg, populations=["I"]) == [got[1]]
