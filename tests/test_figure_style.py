"""One figure style (lfpk.figures.style) in every figure, on small synthetic data: E and I have the
same colour in the study's network overview, the rasters of Figs 3 and 9 and Fig 14 (E blue, I red
as in the published figures); every scale bar is a 1-2-5 value in a unit that keeps its label short,
and the label lies inside its axes and the figure once drawn."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest
import xarray as xr
from figcheck import assert_population_colors, assert_scalebars_fit, capture_figures
from test_study_figures import DT, TRANSIENT, TSTOP, make_signals, make_spikes

from lfpk.engines.compare import compare
from lfpk.figures import style
from lfpk.figures.inputs import run_config
from lfpk.figures.paper.fig03 import network_figure
from lfpk.figures.paper.fig04 import comparison_figure
from lfpk.figures.paper.fig05 import kernels_figure
from lfpk.figures.paper.fig09 import jscan_figure
from lfpk.figures.paper.fig14 import figure14
from lfpk.figures.study import network_overview, prediction_traces

matplotlib.use("Agg")

# ---------------------------------------------------------------------------------------------
# drawn figures, captured when they are saved
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def drawn(monkeypatch):
    """The figures saved while a test runs (each once, in order)."""
    return capture_figures(monkeypatch)


# ---------------------------------------------------------------------------------------------
# synthetic inputs
# ---------------------------------------------------------------------------------------------


def make_membrane(spikes, samples=4):
    """membrane.nc layout: a few somatic traces per population, median V_rest."""
    rng = np.random.default_rng(5)
    t = spikes["time"].values
    up = np.asarray(spikes["unit_population"].values).astype(str)
    pops = [str(p) for p in spikes["population"].values]
    units = np.stack([np.flatnonzero(up == p)[:samples] for p in pops])
    trace = -65.0 + rng.normal(size=(len(pops), samples, len(t))).cumsum(axis=-1) * 0.1
    return xr.Dataset(
        {"v_soma_trace": (("population", "sample", "membrane_time"), trace, {"units": "mV"}),
         "sample_unit": (("population", "sample"), units),
         "v_soma": ("population", [-65.0, -64.0], {"units": "mV"})},
        coords={"population": pops, "membrane_time": t})


def make_fig14_inputs(config):
    """LIF spikes (NEST node ids from 1), online / offline predictions with contributions, ground
    truth, comparisons and rates, in the layouts Fig 14 reads."""
    rng = np.random.default_rng(7)
    gt_spikes = make_spikes(config, seed=3)
    node = np.arange(1, 17)
    spikes = gt_spikes.assign_coords(unit=node)
    spikes["spike_unit"] = ("spike", node[gt_spikes["spike_unit"].values])
    signals = make_signals(config)
    z = signals["channel_z"].values
    t = signals["time"].values
    pops = ["E", "I"]
    contrib = rng.normal(size=(2, 2, len(z), len(t))).cumsum(axis=-1) * 1e-3
    cdm_c = rng.normal(size=(2, 2, 3, len(t))).cumsum(axis=-1) * 10.0

    def prediction():
        ds = make_signals(config, seed=4, scale=1.2)
        return ds.assign(
            lfp_contribution=(("post", "pre", "channel", "time"), contrib, {"units": "mV"}),
            cdm_contribution=(("post", "pre", "component", "time"), cdm_c, {"units": "nA um"}),
            population_count=(("population", "time"), spikes["population_count"].values),
        ).assign_coords(post=pops, pre=pops, population=pops)

    online, offline = prediction(), prediction()
    comparison_lif = compare(signals, online, approximation="LIF", psd_segment=64.0)
    comparison_gt = compare(signals, make_signals(config, seed=6, scale=1.05), approximation="GT", psd_segment=64.0)
    f = np.linspace(0, 500, 65)
    rates = xr.Dataset(
        {"rate_ground_truth": ("population", [5.0, 15.0]), "rate_lif": ("population", [5.5, 14.0]),
         "spectrum_ground_truth": (("population", "frequency"), 1.0 + rng.random((2, len(f)))),
         "spectrum_lif": (("population", "frequency"), 1.0 + rng.random((2, len(f))))},
        coords={"population": pops, "frequency": f})
    return spikes, online, offline, signals, comparison_lif, comparison_gt, rates


def paths(tmp_path, name):
    return [tmp_path / f"{name}.png", tmp_path / f"{name}.pdf"]


# ---------------------------------------------------------------------------------------------
# the style's pieces
# ---------------------------------------------------------------------------------------------


def test_population_colors_are_the_published_ones():
    assert style.population_colors(["E", "I", "X"]) == {"E": "tab:blue", "I": "tab:red", "X": style.CYCLE[2]}
    from lfpk.figures.paper import framework

    assert framework.POPULATION_COLORS is style.POPULATION_COLORS


@pytest.mark.parametrize("value, units, label", [
    (1e5, "nA um", "100 µA um"), (0.05, "mV", "50 µV"), (20.0, "mV", "20 mV"), (2000.0, "mV", "2 V"),
    (0.5, "uA/mm3", "500 nA/mm3"), (5.0, "1", "5 1"), (0.2, "nA", "200 pA"),
])
def test_labels_pick_a_short_unit(value, units, label):
    assert style.format_quantity(value, units) == label


def test_nice_values():
    assert style.nice_value(0.037) == pytest.approx(0.05)
    assert style.nice_value(0.037, round_up=False) == pytest.approx(0.02)
    assert style.nice_value(100.0) == style.nice_value(100.0, round_up=False) == 100.0
    assert style.nice_value(7e4) == pytest.approx(1e5)


def test_a_label_outside_its_axes_is_reported(tmp_path):
    """The check itself: a label pushed past the right edge, and one that is not a 1-2-5 value."""
    plt = style.pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2))
    a.plot([0, 1], [0, 1])
    style.scalebar(a, 1e5, "nA um", height=0.4)
    t = style.scalebar(b, 3.0, "mV", height=0.3)
    assert style.scalebar_problems(fig) == ["scale bar '3 mV': not a 1-2-5 value from 1 to 999"]
    t.set_position((60, 0))  # points right of the bar: past the axes and the figure
    problems = style.scalebar_problems(fig)
    assert any("outside its axes" in p for p in problems) and any("outside its figure" in p for p in problems)
    plt.close(fig)


# ---------------------------------------------------------------------------------------------
# every figure
# ---------------------------------------------------------------------------------------------


def test_network_overview_colours_and_scale_bar(config, drawn, tmp_path):
    spikes, signals = make_spikes(config), make_signals(config)
    network_overview(spikes, signals, paths(tmp_path, "overview"))
    (fig,) = drawn
    unit_pop = np.asarray(spikes["unit_population"].values).astype(str)
    assert_population_colors(fig, dict(enumerate(unit_pop)), "network overview")
    assert_scalebars_fit(fig, "network overview")


def test_prediction_traces_scale_bars(config, drawn, tmp_path):
    preds = {"frozen": make_signals(config, seed=2, scale=1.1, noise=0.3)}
    prediction_traces(make_signals(config), preds, paths(tmp_path, "traces"), window=(TRANSIENT, TSTOP))
    (fig,) = drawn
    assert_scalebars_fit(fig, "traces", at_least=3)  # total, E, I


def test_fig03_colours_and_scale_bars(config, drawn, tmp_path):
    spikes, signals = make_spikes(config), make_signals(config)
    network_figure(spikes, signals, make_membrane(spikes), run_config(spikes), paths(tmp_path, "Fig03"))
    (fig,) = drawn
    unit_pop = np.asarray(spikes["unit_population"].values).astype(str)
    assert_population_colors(fig, dict(enumerate(unit_pop)), "Fig03")
    assert_scalebars_fit(fig, "Fig03", at_least=4)  # D (E, I), H, I


def test_fig09_colours_and_scale_bars(config, drawn, tmp_path):
    runs = []
    for k, J in enumerate((0.975, 1.0, 1.075)):
        sig = make_signals(config, seed=10 + k)
        pred = make_signals(config, seed=20 + k, scale=1.1, noise=0.2)
        runs.append({"J": J, "spikes": make_spikes(config, seed=k), "signals": sig, "prediction": pred,
                     "comparison": compare(sig, pred, approximation="frozen", psd_segment=64.0)})
    jscan_figure(runs, paths(tmp_path, "Fig09"), variant="frozen")
    (fig,) = drawn
    unit_pop = np.asarray(runs[0]["spikes"]["unit_population"].values).astype(str)
    assert_population_colors(fig, dict(enumerate(unit_pop)), "Fig09")
    assert_scalebars_fit(fig, "Fig09", at_least=2 * len(runs))  # B and C of every J


def test_fig14_colours_and_scale_bars(config, drawn, tmp_path):
    inputs = make_fig14_inputs(config)
    figure14(*inputs, paths(tmp_path, "Fig14"))
    (fig,) = drawn
    spikes = inputs[0]
    population_of = dict(zip(spikes["unit"].values.tolist(), spikes["unit_population"].values.astype(str)))
    assert_population_colors(fig, population_of, "Fig14")
    assert_scalebars_fit(fig, "Fig14", at_least=5)  # B-E and F
    assert DT and (tmp_path / "Fig14.png").exists()


def make_kernels(config, form, seed):
    """Gathered kernels (post, pre, channel / component, lag) of one form, LFP in mV, dipole in nA um."""
    rng = np.random.default_rng(seed)
    z = np.asarray(config["probes"]["channel_z"], dtype=float)
    lag = np.arange(-10.0, 60.0, 0.5)
    shape = np.exp(-np.clip(lag, 0, None) / 5.0) * (lag >= 0)
    lfp = rng.normal(size=(2, 2, len(z), 1)) * 1e-4 * shape
    cdm = rng.normal(size=(2, 2, 3, 1)) * 50.0 * shape
    return xr.Dataset({"lfp": (("post", "pre", "channel", "lag"), lfp, {"units": "mV"}),
                       "cdm": (("post", "pre", "component", "lag"), cdm, {"units": "nA um"})},
                      coords={"post": ["E", "I"], "pre": ["E", "I"], "channel": np.arange(len(z)),
                              "channel_z": ("channel", z), "component": ["x", "y", "z"], "lag": lag},
                      attrs={"biophysics": form})


def test_fig04_narrow_columns_keep_scale_bars_inside(config, drawn, tmp_path):
    gt = make_signals(config)
    approximations = [(f"reconstruction {k}: frozen, g_eff", make_signals(config, seed=30 + k, scale=1.0 + 0.1 * k))
                      for k in range(6)]
    comparison_figure(gt, approximations, paths(tmp_path, "Fig04"), "Fig04", "reconstructions")
    (fig,) = drawn
    assert_scalebars_fit(fig, "Fig04", at_least=2)  # LFP and dipole of the last column


def test_fig05_scale_bars(config, drawn, tmp_path):
    hybrid = [("quasi-linear", make_kernels(config, "quasi_linear", 1)), ("frozen", make_kernels(config, "frozen", 2))]
    direct = [("quasi-linear", make_kernels(config, "quasi_linear", 3)), ("frozen", make_kernels(config, "frozen", 4))]
    kernels_figure(hybrid, direct, paths(tmp_path, "Fig05"))
    (fig,) = drawn
    assert_scalebars_fit(fig, "Fig05", at_least=16)  # LFP and dipole of 4 connections, A and B
