"""The microcircuit study (issue 27) through the Snakemake workflow: a tiny microcircuit (scale
0.02: 1,544 point neurons, the model's 8 populations, 16 cell types and 55 connections with their
layer tables) with ball-and-stick stand-ins for hybridLFPy's morphologies (the real files are not
reachable offline), run with ``snakemake --cores 2`` to the figure."""

import copy

import numpy as np
import pytest
import yaml
from tinystudy import REPO, remove, results, snakemake

from lfpk.api.config import read_config_file, validate_config

STUDY = "pytest_microcircuit"
#: The tiny network: 2 % of the neurons and of the in-degrees (NEST's down-scaling), 600 ms.
SCALE = 0.02
TSTOP, TRANSIENT = 600.0, 100.0


def stand_in(z_soma, z_top=0.0, z_bottom=-1491.7):
    """A ball-and-stick cell for a soma at depth ``z_soma`` (um) whose apical stick reaches the pia
    (``z_top``) and basal stick the bottom of L6 (``z_bottom``): every layer holds some of its
    dendrite, so every layer-specificity entry has segments to land on."""
    return {"soma": {"length": 20.0, "diam": 20.0}, "apic": {"length": round(z_top - z_soma, 2), "diam": 2.0},
            "dend": {"length": round(z_soma - z_bottom, 2), "diam": 2.0}}


def tiny_microcircuit(study=STUDY):
    """config/microcircuit.yaml at scale 0.02 (its layered blocks generated for that scale, as the
    laptop file is), one NEST thread, each population's cell types on a stand-in cell of the
    population's soma depth, synapses on the stand-ins' ``apic`` and ``dend``."""
    from lfpk.study.microcircuit.layered import layered_model
    from lfpk.study.microcircuit.parameters import MicrocircuitParameters

    cfg = read_config_file(REPO / "config" / "microcircuit.yaml")
    cfg["study"] = study
    cfg["microcircuit"] = dict(cfg["microcircuit"], tstop=TSTOP, transient=TRANSIENT, scale=SCALE,
                               indegree_scale=SCALE, threads=1)
    cfg.update(copy.deepcopy(layered_model(MicrocircuitParameters.from_config(cfg))))
    for pop in cfg["populations"].values():
        pop["morphology"] = stand_in(pop["placement"]["z_mean"])
        for t in pop["cell_types"].values():
            t.pop("morphology")
    for c in cfg["connections"]:
        c["placement"]["sections"] = ["apic", "dend"]
    return validate_config(cfg)


@pytest.fixture(scope="module")
def study(mechanisms, tmp_path_factory):
    pytest.importorskip("nest")
    folder = tmp_path_factory.mktemp("microcircuit")
    cfg = tiny_microcircuit()
    path = folder / f"{STUDY}.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    remove(STUDY)
    proc = snakemake("--cores", "2", "--configfile", path)
    yield cfg, path, proc, results(STUDY)
    remove(STUDY)


def test_tiny_microcircuit_through_snakemake(study):
    import matplotlib.image

    from lfpk.base.io import read_dataset
    from lfpk.entry.workflow import microcircuit_targets
    from lfpk.study.microcircuit.parameters import CONNECTION_PROBABILITIES, POPULATIONS

    cfg, path, proc, res = study
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-5000:]
    assert not [t for t in microcircuit_targets(cfg) if not (REPO / t).is_file()]
    # the NEST network: every neuron of the 8 populations, spikes after the transient
    sp = read_dataset(res / "microcircuit" / "spikes.nc")
    sizes = {p: cfg["populations"][p]["size"] for p in POPULATIONS}
    assert sp.sizes["unit"] == sum(sizes.values()) == 1544
    assert sp.attrs["tstop"] == TSTOP and sp.attrs["transient"] == TRANSIENT
    rates = read_dataset(res / "microcircuit" / "rates.nc")
    assert list(rates["population"].values) == list(POPULATIONS)
    assert (rates["rate"].values > 0).sum() >= 6, rates["rate"].values
    # kernels: a nonzero kernel exactly for the model's 55 connections (C_YX > 0), none for the 9 others
    k = read_dataset(res / "kernels" / "config" / "passive-nogeff-scalar" / "kernels.nc")
    peak = np.abs(k["cdm"].transpose("post", "pre", ...).values).reshape(k.sizes["post"], k.sizes["pre"], -1).max(axis=-1)
    post, pre = [str(p) for p in k["post"].values], [str(p) for p in k["pre"].values]
    expect = np.array([[CONNECTION_PROBABILITIES[POPULATIONS.index(y), POPULATIONS.index(x)] > 0 for x in pre]
                       for y in post])
    assert expect.sum() == 55
    assert np.array_equal(peak > 0, expect), peak
    # the prediction: the config's 16 LFP and CSD channels, the total the sum of the populations'
    pred = read_dataset(res / "microcircuit" / "prediction" / "passive-nogeff-scalar.nc")
    assert list(pred["source"].values) == ["total", *POPULATIONS]
    assert np.array_equal(pred["channel_z"].values, cfg["probes"]["channel_z"])
    after = pred["time"].values >= TRANSIENT
    for name in ("lfp", "csd", "cdm", "eeg"):
        x = pred[name].values
        assert np.all(np.isfinite(x)), name
        # the sum over 8 populations, each rounded once: a relative 1e-12 of the largest value
        np.testing.assert_allclose(x[0], x[1:].sum(axis=0), rtol=0, atol=1e-12 * np.abs(x).max())
        # each population's signal is its presynaptic contributions' sum
        c = pred[f"{name}_contribution"].sum("pre").sel(post=list(POPULATIONS)).values
        np.testing.assert_allclose(x[1:], c, rtol=0, atol=1e-12 * np.abs(x).max())
    lfp_sd = pred["lfp"].sel(source="total").values[:, after].std(axis=1)
    assert np.all(lfp_sd > 0), lfp_sd
    # the dipole of cells along z: its z component carries the signal
    cdm_sd = pred["cdm"].sel(source="total").values[:, after].std(axis=1)
    assert cdm_sd[2] > max(cdm_sd[0], cdm_sd[1]), cdm_sd
    # a silent layer-4 of the point network would leave the L4 cells' contribution zero: the spikes
    # reached the prediction population by population
    counts = pred["population_count"].sum("time").values
    spikes_per_pop = [int(np.isin(sp["spike_unit"].values, sp["unit"].values[sp["unit_population"].values == p]).sum())
                      for p in POPULATIONS]
    assert list(counts) == spikes_per_pop
    png = res / "figures" / "microcircuit.png"
    assert (res / "figures" / "microcircuit.pdf").read_bytes()[:5] == b"%PDF-"
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05
    for name in ("simulate", "prediction/passive-nogeff-scalar"):
        assert (res / "benchmarks" / "microcircuit" / f"{name}.tsv").is_file()


def test_microcircuit_figure_style(study, monkeypatch, tmp_path):
    """The figure of the run above: population colours of the style, scale bars inside their axes."""
    from figcheck import assert_scalebars_fit, capture_figures

    from lfpk.figures import style
    from lfpk.figures.microcircuit import microcircuit_figure_files

    cfg, path, proc, res = study
    assert proc.returncode == 0
    drawn = capture_figures(monkeypatch)
    mc = res / "microcircuit"
    microcircuit_figure_files(mc / "prediction" / "passive-nogeff-scalar.nc", mc / "spikes.nc", mc / "rates.nc",
                              [tmp_path / "f.png"], layers=cfg["layers"])
    (fig,) = drawn
    assert_scalebars_fit(fig, "microcircuit")
    raster = fig.axes[0]
    colors = {line.get_label(): line.get_markeredgecolor() for line in raster.get_lines()}
    assert colors == {p: style.POPULATION_COLORS[p] for p in cfg["populations"]}
    # every layer bound is drawn in the depth panels (dashed lines at the config's bounds)
    bounds = sorted({float(b) for v in cfg["layers"].values() for b in v})
    lfp_image = fig.axes[3]
    drawn_bounds = sorted({float(line.get_ydata()[0]) for line in lfp_image.get_lines() if line.get_linestyle() == "--"})
    assert drawn_bounds == bounds
    # K: every source's dipole spectrum is drawn, or named as having none (its power at rounding
    # level: a population of randomly turned cells); the total is always drawn
    (spectra,) = [ax for ax in fig.axes if ax.get_title().startswith("K ")]
    plotted = {line.get_label() for line in spectra.get_lines()}
    named = set()
    for text in spectra.texts:
        if text.get_text().startswith("no z dipole"):
            named |= set(text.get_text().split("\n", 1)[1].split(", "))
    assert "total" in plotted and not plotted & named
    assert plotted | named == {"total", *cfg["populations"]}
    floor = max(float(np.max(line.get_ydata())) for line in spectra.get_lines())
    assert all(float(np.max(line.get_ydata())) > 1e-20 * floor for line in spectra.get_lines())


def test_online_prediction_while_nest_runs_equals_offline(study, tmp_path):
    """The microcircuit predicted online (kernels applied to each 50 ms chunk of spikes while NEST
    runs) equals the workflow's offline prediction of the same network's spike file: the same
    seed and threads give the same spikes whatever the chunking, and phi = sum_X sum_Y nu_X * H_YX
    is linear, so the two agree to the rounding of the two convolution schemes."""
    from lfpk.base.io import read_dataset
    from lfpk.study.microcircuit.stages import simulate_files

    cfg, path, proc, res = study
    assert proc.returncode == 0, proc.stderr[-3000:]
    kernels = res / "kernels" / "config" / "passive-nogeff-scalar" / "kernels.nc"
    simulate_files(cfg, tmp_path / "spikes.nc", kernels=kernels, online=tmp_path / "online.nc", chunk=50.0)
    a, b = read_dataset(res / "microcircuit" / "spikes.nc"), read_dataset(tmp_path / "spikes.nc")
    assert np.array_equal(a["spike_time"].values, b["spike_time"].values)
    assert np.array_equal(a["spike_unit"].values, b["spike_unit"].values)
    offline = read_dataset(res / "microcircuit" / "prediction" / "passive-nogeff-scalar.nc")
    online = read_dataset(tmp_path / "online.nc")
    assert np.array_equal(offline["time"].values, online["time"].values)
    for name in ("lfp", "csd", "cdm", "eeg"):
        x, y = offline[name].values, online[name].values
        assert np.abs(x).max() > 0
        np.testing.assert_allclose(y, x, rtol=0, atol=1e-9 * np.abs(x).max(), err_msg=name)
    # a missing chunk length is refused before NEST starts, naming the option
    with pytest.raises(ValueError, match="--chunk"):
        simulate_files(cfg, tmp_path / "s2.nc", kernels=kernels, online=tmp_path / "o2.nc")
    assert not (tmp_path / "s2.nc").exists() and not (tmp_path / "o2.nc").exists()
