"""Morphology stage: segment table against the geometry, the d_lambda rule and NEURON/LFPy."""

import numpy as np
import pytest

from lfpk.api.config import load_config
from lfpk.model import morphologies as from_config
from lfpk.model.morphology import SECTIONS, BallAndStick, d_lambda_nseg


@pytest.fixture(scope="module")
def morphs(repo):
    return from_config(load_config(repo / "config" / "config.yaml"))


def test_segment_counts_follow_d_lambda(morphs):
    # NOTES: LFPy's lambda100 gives E soma/dend/apic 1/5/21 and I 1/5/5 segments
    assert [morphs["E"].nseg(s) for s in SECTIONS] == [1, 5, 21]
    assert [morphs["I"].nseg(s) for s in SECTIONS] == [1, 5, 5]
    # the rule: smallest odd n with L/n <= d_lambda * lambda_AC
    for L in (10.0, 100.0, 500.0, 2000.0):
        n = d_lambda_nseg(L, 2.0, 100.0, 1.0, 0.1, 100.0)
        lam = 1e5 * np.sqrt(2.0 / (4 * np.pi * 100.0 * 100.0 * 1.0))
        assert n % 2 == 1
        assert L / n <= 0.1 * lam * 1.0000001 or n == 1
        assert n == 1 or L / (n - 2) > 0.1 * lam


@pytest.mark.parametrize("pop", ["E", "I"])
def test_areas_and_extents_match_cylinders(morphs, pop):
    m = morphs[pop]
    ds = m.segment_table()
    for sec in SECTIONS:
        sel = ds["section"].values == sec
        assert sel.sum() == m.nseg(sec)
        area = ds["area"].values[sel].sum()
        assert area == pytest.approx(np.pi * m.diam[sec] * m.length[sec], rel=1e-12)
        z = ds["z"].values[sel]
        assert np.abs(z[:, 1] - z[:, 0]).sum() == pytest.approx(m.length[sec])
    z = ds["z"].values
    assert z.min() == pytest.approx(-m.length["soma"] / 2 - m.length["dend"])
    assert z.max() == pytest.approx(m.length["soma"] / 2 + m.length["apic"])
    for var in ds.data_vars.values():
        assert "units" in var.attrs and "long_name" in var.attrs


def test_study_areas(morphs):
    # NOTES: E 13508.85 um2, I 3926.99 um2
    assert morphs["E"].segment_table()["area"].sum() == pytest.approx(13508.85, abs=0.01)
    assert morphs["I"].segment_table()["area"].sum() == pytest.approx(3926.99, abs=0.01)


def test_neuron_build_matches_table(morphs):
    m = morphs["E"]
    secs = m.build(prefix="table_check")
    table = m.segment_table()
    areas = np.array([seg.area() for sec in secs.values() for seg in sec])
    np.testing.assert_allclose(areas, table["area"].values, rtol=1e-9)
    xs = np.array([seg.x for sec in secs.values() for seg in sec])
    np.testing.assert_allclose(xs, table["x_norm"].values)


def test_hoc_file_loads_in_lfpy(morphs, tmp_path):
    import LFPy

    from lfpk.study.stages import write_morphology

    m = morphs["I"]
    write_morphology(m, tmp_path / "I.hoc", tmp_path / "I.nc")
    cell = LFPy.Cell(morphology=str(tmp_path / "I.hoc"), nsegs_method=None, delete_sections=True)
    table = m.segment_table()
    assert cell.totnsegs == table.sizes["segment"]
    np.testing.assert_allclose(cell.area, table["area"].values, rtol=1e-9)
    np.testing.assert_allclose(cell.z, table["z"].values, atol=1e-9)
    cell.__del__()


def test_netcdf_round_trip(morphs, tmp_path):
    from lfpk.base.io import read_dataset
    from lfpk.study.stages import write_morphology

    write_morphology(morphs["E"], tmp_path / "E.hoc", tmp_path / "E.nc")
    ds = read_dataset(tmp_path / "E.nc")
    ref = morphs["E"].segment_table()
    np.testing.assert_array_equal(ds["z"].values, ref["z"].values)
    assert list(ds["section"].values.astype(str)) == list(ref["section"].values)
    assert ds["area"].attrs["units"] == "um2"
    assert ds.attrs["population"] == "E"
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"


def test_from_config_rejects_unknown_section(morphs):
    with pytest.raises(KeyError, match="axon"):
        morphs["E"].section_ends("axon")
