"""Layers, cell types and layer-specificity tables of the microcircuit's multicompartment model.

Facts from hybridLFPy's cortical-microcircuit example (Hagen E, Dahmen D, Stavrinou ML, Linden H,
Tetzlaff T, van Albada SJ, Gruen S, Diesmann M, Einevoll GT (2016) Hybrid scheme for modeling
local field potentials from point-neuron networks. Cereb Cortex 26:4461-4496,
doi:10.1093/cercor/bhw237; repository INM-6/hybridLFPy, ``examples/example_microcircuit_params.py``
and ``examples/Hagen_et_al_2016_cercor/cellsim16popsParams_default.py``, cited below as [H16]),
which take the cell types and their synapses from Binzegger T, Douglas RJ, Martin KAC (2004)
A quantitative map of the circuit of cat primary visual cortex. J Neurosci 24:8441-8453 ([B04];
the file ``binzegger_connectivity_table.json`` of [H16], identical in the PyPI sdist
hybridLFPy-0.1.3 and the repository, sha256 d863c617...b8b2fb).

Derived here (the rules of [H16] ``get_F_y``, ``get_L_yXL``, ``get_T_yX``, recomputed from the
published numbers in :data:`SYNAPSES`):

* occurrence F_y of cell type y within its population Y: [B04]'s occurrence of y divided by the
  sum over the types of Y (:func:`occurrence`);
* synapses per neuron of type y in layer L from population X, ``k_yXL = sum_{x in X} p_yxL
  k_yL`` with k_yL the synapses per neuron of y in L and p_yxL the fraction of them from type x
  (:func:`synapses_by_layer`); ``k_yX = sum_L k_yXL``;
* layer specificity ``L_yXL = k_yXL / k_yX`` (:func:`layer_specificity`): the fraction of the
  X -> y synapses in layer L, the config's ``placement.layers`` per cell type;
* cell-type specificity ``T_yX = F_y k_yX / sum_{y' in Y} F_y' k_y'X`` (:func:`type_specificity`):
  the fraction of the X -> Y synapses onto type y. [H16] gives each type its own in-degree
  ``T_yX K_YX / N_y``; a kernel that weights every type's kernel by F_y with the population's
  in-degree (the layered format) equals it when ``T_yX = F_y`` and differs by the factor
  ``T_yX / F_y = k_yX / sum_y' F_y' k_y'X`` otherwise (:func:`relative_indegree`).
"""

from __future__ import annotations

import numpy as np

from lfpk.study.microcircuit.parameters import POPULATION_LAYER, POPULATIONS

#: Layer bounds ``[z_bottom, z_top]`` (um, pia at 0, z up) of L1, L2/3, L4, L5, L6 ([H16]
#: ``layerBoundaries``, cat V1 after [B04]).
LAYERS = {"L1": [-81.6, 0.0], "L23": [-587.1, -81.6], "L4": [-922.2, -587.1], "L5": [-1170.0, -922.2],
          "L6": [-1491.7, -1170.0]}

#: The 16 cell types y of each population Y ([H16] ``y_in_Y``, ``mapping_Yy``): p pyramidal, ss
#: spiny stellate, b basket, nb non-basket; in brackets the layer reached by the apical dendrite.
CELL_TYPES = {"L23E": ("p23",), "L23I": ("b23", "nb23"), "L4E": ("p4", "ss4(L23)", "ss4(L4)"), "L4I": ("b4", "nb4"),
              "L5E": ("p5(L23)", "p5(L56)"), "L5I": ("b5", "nb5"), "L6E": ("p6(L4)", "p6(L56)"), "L6I": ("b6", "nb6")}
#: Presynaptic cell types of each presynaptic population X ([H16] ``x_in_X``; TC thalamic).
PRESYNAPTIC_TYPES = {"TC": ("TCs", "TCn"), **CELL_TYPES}

#: Occurrence of each cell type (% of all neurons, [B04] via [H16]'s table).
OCCURRENCE_PERCENT = {"p23": 26.0, "b23": 3.1, "nb23": 4.2, "p4": 9.2, "ss4(L23)": 9.2, "ss4(L4)": 9.2, "b4": 5.4,
                      "nb4": 1.5, "p5(L23)": 4.8, "p5(L56)": 1.3, "b5": 0.6, "nb5": 0.8, "p6(L4)": 13.6, "p6(L56)": 4.5,
                      "b6": 2.0, "nb6": 2.0}

#: Synapses of each cell type y per layer L ([B04] via [H16]'s table): ``(k_yL, {x: p_yxL %})``,
#: k_yL the synapses per neuron of y in L and p_yxL the percentage of them made by presynaptic
#: type x, for the modelled types of :data:`PRESYNAPTIC_TYPES` (zeros left out; the rest of each
#: layer's 100 % comes from cortico-cortical and unmodelled types).
SYNAPSES = {
    "p23": {"L1": (1306, {"TCn": 4.1, "p23": 6.3, "b23": 0.1, "nb23": 1.1, "p4": 0.1, "p5(L23)": 0.1}),
                "L23": (5800, {"p23": 59.9, "b23": 9.1, "nb23": 4.4, "p4": 7.7, "ss4(L23)": 6.9, "ss4(L4)": 0.6, "nb4": 0.8, "p5(L23)": 7.4, "p6(L4)": 2.3, "nb6": 0.8})},
    "b23": {"L23": (3854, {"TCn": 0.5, "p23": 51.6, "b23": 10.6, "nb23": 3.4, "p4": 6.6, "ss4(L23)": 5.8, "ss4(L4)": 0.5, "nb4": 0.8, "p5(L23)": 6.3, "p6(L4)": 2.1, "nb6": 0.7})},
    "nb23": {"L23": (3307, {"TCn": 0.7, "p23": 48.6, "b23": 11.4, "nb23": 3.3, "p4": 6.2, "ss4(L23)": 5.5, "ss4(L4)": 0.5, "nb4": 0.8, "p5(L23)": 5.9, "p6(L4)": 1.8, "nb6": 0.6})},
    "p4": {"L1": (806, {"TCn": 4.1, "p23": 6.3, "b23": 0.1, "nb23": 1.1, "p4": 0.1, "p5(L23)": 0.1}),
                "L23": (866, {"p23": 63.1, "b23": 5.1, "nb23": 4.1, "p4": 8.1, "ss4(L23)": 7.2, "ss4(L4)": 0.6, "nb4": 0.6, "p5(L23)": 7.8, "p6(L4)": 2.5, "nb6": 0.8}),
                "L4": (5031, {"TCs": 1.7, "TCn": 1.3, "p23": 4.3, "b23": 0.2, "nb23": 0.6, "p4": 4.2, "ss4(L23)": 3.6, "ss4(L4)": 11.5, "b4": 7.2, "nb4": 2.1, "p5(L23)": 1.2, "p5(L56)": 0.1, "p6(L4)": 31.4, "p6(L56)": 0.1, "nb6": 5.9})},
    "ss4(L23)": {"L4": (4989, {"TCs": 1.7, "TCn": 1.3, "p23": 5.6, "b23": 0.4, "nb23": 0.8, "p4": 4.3, "ss4(L23)": 3.8, "ss4(L4)": 11.3, "b4": 7.2, "nb4": 2.1, "p5(L23)": 1.1, "p5(L56)": 0.1, "p6(L4)": 31.1, "nb6": 5.5})},
    "ss4(L4)": {"L4": (5792, {"TCs": 1.7, "TCn": 1.3, "p23": 2.7, "b23": 0.2, "nb23": 0.6, "p4": 4.1, "ss4(L23)": 3.7, "ss4(L4)": 11.9, "b4": 7.1, "nb4": 2, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 32.7, "nb6": 5.8})},
    "b4": {"L4": (3230, {"TCs": 1.6, "TCn": 1.2, "p23": 5.8, "b23": 0.5, "nb23": 0.8, "p4": 4.2, "ss4(L23)": 3.8, "ss4(L4)": 11, "b4": 8.4, "nb4": 2.4, "p5(L23)": 1.1, "p6(L4)": 30.3, "nb6": 5.4})},
    "nb4": {"L4": (3688, {"TCs": 1.7, "TCn": 1.3, "p23": 2.7, "b23": 0.2, "nb23": 0.6, "p4": 4, "ss4(L23)": 3.6, "ss4(L4)": 11.7, "b4": 8.2, "nb4": 2.3, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 32.2, "nb6": 5.7})},
    "p5(L23)": {"L1": (185, {"TCn": 4.1, "p23": 6.3, "b23": 0.1, "nb23": 1.1, "p4": 0.1, "p5(L23)": 0.1}),
                "L23": (412, {"p23": 63.1, "b23": 5.1, "nb23": 4.1, "p4": 8.1, "ss4(L23)": 7.2, "ss4(L4)": 0.6, "nb4": 0.6, "p5(L23)": 7.8, "p6(L4)": 2.5, "nb6": 0.8}),
                "L4": (283, {"TCs": 1.8, "TCn": 1.4, "p23": 2.8, "b23": 0.1, "nb23": 0.7, "p4": 4.2, "ss4(L23)": 3.8, "ss4(L4)": 12.2, "b4": 5.2, "nb4": 1.5, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 33.7, "nb6": 5.9}),
                "L5": (4316, {"TCs": 0.1, "TCn": 0.4, "p23": 45.9, "b23": 1.8, "nb23": 0.3, "p4": 7.5, "ss4(L23)": 2, "ss4(L4)": 3.3, "nb4": 0.9, "p5(L23)": 11.7, "p5(L56)": 1, "b5": 0.8, "nb5": 1.1, "p6(L4)": 2.3, "p6(L56)": 2.1, "nb6": 11.5})},
    "p5(L56)": {"L1": (5658, {"TCn": 4.1, "p23": 6.3, "b23": 0.1, "nb23": 1.1, "p4": 0.1, "p5(L23)": 0.1}),
                "L23": (1367, {"p23": 63.1, "b23": 5.1, "nb23": 4.1, "p4": 8.1, "ss4(L23)": 7.2, "ss4(L4)": 0.6, "nb4": 0.6, "p5(L23)": 7.8, "p6(L4)": 2.5, "nb6": 0.8}),
                "L4": (949, {"TCs": 1.8, "TCn": 1.4, "p23": 2.8, "b23": 0.1, "nb23": 0.7, "p4": 4.2, "ss4(L23)": 3.8, "ss4(L4)": 12.2, "b4": 5.2, "nb4": 1.5, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 33.7, "nb6": 5.9}),
                "L5": (5101, {"TCs": 0.2, "TCn": 0.5, "p23": 44.3, "b23": 1.7, "nb23": 0.2, "p4": 7.3, "ss4(L23)": 2, "ss4(L4)": 3.2, "nb4": 0.8, "p5(L23)": 11.3, "p5(L56)": 1.2, "b5": 0.8, "nb5": 1.1, "p6(L4)": 2.3, "p6(L56)": 2.5, "b6": 0.3, "nb6": 11.3})},
    "b5": {"L5": (2981, {"TCs": 0.1, "TCn": 0.4, "p23": 45.5, "b23": 2.3, "nb23": 0.2, "p4": 7.5, "ss4(L23)": 2, "ss4(L4)": 3.3, "nb4": 1.1, "p5(L23)": 11.6, "p5(L56)": 1, "b5": 0.9, "nb5": 1.3, "p6(L4)": 2.3, "p6(L56)": 2, "nb6": 11.4})},
    "nb5": {"L5": (2981, {"TCs": 0.1, "TCn": 0.4, "p23": 45.5, "b23": 2.3, "nb23": 0.2, "p4": 7.5, "ss4(L23)": 2, "ss4(L4)": 3.3, "nb4": 1.1, "p5(L23)": 11.6, "p5(L56)": 1, "b5": 0.9, "nb5": 1.3, "p6(L4)": 2.3, "p6(L56)": 2, "nb6": 11.4})},
    "p6(L4)": {"L23": (121, {"p23": 63.1, "b23": 5.1, "nb23": 4.1, "p4": 8.1, "ss4(L23)": 7.2, "ss4(L4)": 0.6, "nb4": 0.6, "p5(L23)": 7.8, "p6(L4)": 2.5, "nb6": 0.8}),
                "L4": (1915, {"TCs": 1.8, "TCn": 1.4, "p23": 2.8, "b23": 0.1, "nb23": 0.7, "p4": 4.2, "ss4(L23)": 3.8, "ss4(L4)": 12.2, "b4": 5.2, "nb4": 1.5, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 33.7, "nb6": 5.9}),
                "L5": (1066, {"TCs": 0.1, "TCn": 0.4, "p23": 46.8, "b23": 0.8, "nb23": 0.3, "p4": 7.7, "ss4(L23)": 2.1, "ss4(L4)": 3.4, "nb4": 0.6, "p5(L23)": 11.9, "p5(L56)": 1, "b5": 0.6, "nb5": 0.8, "p6(L4)": 2.3, "p6(L56)": 2.1, "nb6": 11.7}),
                "L6": (3261, {"TCs": 0.6, "TCn": 2.9, "p23": 2.5, "b23": 0.1, "nb23": 0.1, "p4": 1.3, "ss4(L23)": 0.9, "ss4(L4)": 0.7, "nb4": 0.1, "p5(L23)": 0.1, "p5(L56)": 4.9, "nb5": 0.3, "p6(L4)": 1.2, "p6(L56)": 13.2, "b6": 7.7, "nb6": 7.7})},
    "p6(L56)": {"L1": (62, {"TCn": 4.1, "p23": 6.3, "b23": 0.1, "nb23": 1.1, "p4": 0.1, "p5(L23)": 0.1}),
                "L23": (286, {"p23": 63.1, "b23": 5.1, "nb23": 4.1, "p4": 8.1, "ss4(L23)": 7.2, "ss4(L4)": 0.6, "nb4": 0.6, "p5(L23)": 7.8, "p6(L4)": 2.5, "nb6": 0.8}),
                "L4": (243, {"TCs": 1.8, "TCn": 1.4, "p23": 2.8, "b23": 0.1, "nb23": 0.7, "p4": 4.2, "ss4(L23)": 3.8, "ss4(L4)": 12.2, "b4": 5.2, "nb4": 1.5, "p5(L23)": 0.8, "p5(L56)": 0.1, "p6(L4)": 33.7, "nb6": 5.9}),
                "L5": (257, {"TCs": 0.1, "TCn": 0.4, "p23": 46.8, "b23": 0.8, "nb23": 0.3, "p4": 7.7, "ss4(L23)": 2.1, "ss4(L4)": 3.4, "nb4": 0.6, "p5(L23)": 11.9, "p5(L56)": 1, "b5": 0.6, "nb5": 0.8, "p6(L4)": 2.3, "p6(L56)": 2.1, "nb6": 11.7}),
                "L6": (5573, {"TCs": 0.6, "TCn": 2.9, "p23": 2.5, "b23": 0.1, "nb23": 0.1, "p4": 1.3, "ss4(L23)": 0.9, "ss4(L4)": 0.7, "nb4": 0.1, "p5(L23)": 0.1, "p5(L56)": 4.9, "nb5": 0.3, "p6(L4)": 1.2, "p6(L56)": 13.2, "b6": 7.8, "nb6": 7.8})},
    "b6": {"L6": (3220, {"TCs": 0.6, "TCn": 2.9, "p23": 2.5, "b23": 0.1, "nb23": 0.1, "p4": 1.3, "ss4(L23)": 0.9, "ss4(L4)": 0.7, "nb4": 0.1, "p5(L23)": 0.1, "p5(L56)": 4.9, "nb5": 0.4, "p6(L4)": 1.2, "p6(L56)": 13.2, "b6": 7.7, "nb6": 7.7})},
    "nb6": {"L6": (3220, {"TCs": 0.6, "TCn": 2.9, "p23": 2.5, "b23": 0.1, "nb23": 0.1, "p4": 1.3, "ss4(L23)": 0.9, "ss4(L4)": 0.7, "nb4": 0.1, "p5(L23)": 0.1, "p5(L56)": 4.9, "nb5": 0.4, "p6(L4)": 1.2, "p6(L56)": 13.2, "b6": 7.7, "nb6": 7.7})},
}

#: Reconstructed morphology of each cell type ([H16] ``m_y`` with ``testing = False``: the
#: "stretched" NEURON hoc files of ``examples/Hagen_et_al_2016_cercor/morphologies/stretched``;
#: several types share a file). Public files, never part of lfpk: the address of each is
#: :data:`MORPHOLOGY_URL` + file name, its content pinned by :data:`MORPHOLOGY_SHA256`.
MORPHOLOGY = {"p23": "L23E_oi24rpy1.hoc", "b23": "L23I_oi38lbc1.hoc", "nb23": "L23I_oi38lbc1.hoc",
              "p4": "L4E_53rpy1.hoc", "ss4(L23)": "L4E_j7_L4stellate.hoc", "ss4(L4)": "L4E_j7_L4stellate.hoc",
              "b4": "L4I_oi26rbc1.hoc", "nb4": "L4I_oi26rbc1.hoc", "p5(L23)": "L5E_oi15rpy4.hoc", "p5(L56)": "L5E_j4a.hoc",
              "b5": "L5I_oi15rbc1.hoc", "nb5": "L5I_oi15rbc1.hoc", "p6(L4)": "L6E_51-2a.CNG.hoc",
              "p6(L56)": "L6E_oi15rpy4.hoc", "b6": "L6I_oi15rbc1.hoc", "nb6": "L6I_oi15rbc1.hoc"}
#: Commit of INM-6/hybridLFPy the addresses are pinned to (master, 2023-05-02).
MORPHOLOGY_COMMIT = "479c2c4825abbcf047fbdb707c9234b32dd19c75"
MORPHOLOGY_URL = (f"https://raw.githubusercontent.com/INM-6/hybridLFPy/{MORPHOLOGY_COMMIT}/examples/"
                  "Hagen_et_al_2016_cercor/morphologies/stretched/")
#: SHA-256 of each file at :data:`MORPHOLOGY_COMMIT` (computed from the repository's git objects).
MORPHOLOGY_SHA256 = {
    "L23E_oi24rpy1.hoc": "c488448a4094c6c42a7c0cbefce81eb3c851267cdf87a064fcb7c6943c8fd6c8",
    "L23I_oi38lbc1.hoc": "5412db138f3e048f0a2d3710c988a9b5dbb8f76f1a1ddf0dd43faabe69b3a4de",
    "L4E_53rpy1.hoc": "ff4adcfedab9a0afee21259d0cf3c65294daed090da43c91e65ec5fd22601312",
    "L4E_j7_L4stellate.hoc": "6aa6a14b8d237eaa4efeed833788d3304d23cab0f1c573bdfcdf01393ded3cd4",
    "L4I_oi26rbc1.hoc": "c578cf3a95bd12eae4a839503476e9504b4b28daf66603ea6789dab4085a3271",
    "L5E_j4a.hoc": "6b1059bee6b30822a5c94613deffc6dcef2f08824f4c8edca91ff2679aec7267",
    "L5E_oi15rpy4.hoc": "7a219bb66432d070d21f922ee424b58b0ee142ae922e7a0c6db7bc8785dbbd43",
    "L5I_oi15rbc1.hoc": "926aa1371c433c5bd01e78301abaa67e211f6d96409960ce48e8b3ac2cbfcfc8",
    "L6E_51-2a.CNG.hoc": "9755095a8728b38c1f965727a1555c3f566cc0917fbacbf9063fa62c92e5df43",
    "L6E_oi15rpy4.hoc": "7b1cf24822209d645567e11b90aaffa1d6679dbdc2a2e22864e49409d154bb4b",
    "L6I_oi15rbc1.hoc": "926aa1371c433c5bd01e78301abaa67e211f6d96409960ce48e8b3ac2cbfcfc8",
}
#: Ball-and-stick stand-ins of [H16] (``morphologies/ballnsticks/<Y>_<y>.hoc``, ``testing = True``),
#: shipped in the PyPI source distribution below (pip can fetch it; the reconstructions are not in it).
STANDIN_SDIST = {"file": "hybridLFPy-0.1.3.tar.gz",
                 "sha256": "bfcdad4d3a13269c7569a7095535f63e8643fefc9fae03efa7de2e64473d8742",
                 "folder": "hybridLFPy-0.1.3/examples/morphologies/ballnsticks"}

#: Soma depths: a slab of +-25 um around the middle of the population's layer ([H16]
#: ``populationParams``: ``z_min = depth - 25``, ``z_max = depth + 25``, ``_calcDepths``), in a disc
#: of radius sqrt(1 mm^2 / pi) = 564.19 um.
SOMA_HALF_HEIGHT = 25.0
COLUMN_RADIUS = float(np.sqrt(1000.0**2 / np.pi))

#: Passive multicompartment parameters of every type ([H16] ``cellParams``): Ra ohm cm, cm uF/cm2,
#: g_pas S/cm2 (cm / tau_m with tau_m = 10 ms of the point neurons), e_pas mV; segments by the
#: d_lambda rule (0.1 of the length constant at 100 Hz, LFPy's ``lambda_f = 100``).
CELL = {"Ra": 150.0, "cm": 1.0, "g_pas": 1.0e-4, "e_pas": -65.0, "d_lambda": 0.1, "frequency": 100.0}


def is_pyramidal(cell_type):
    """Pyramidal types (``p...``) have apical dendrites, take synapses on ``apic`` and ``dend`` and
    are rotated about z only; the others take synapses on ``dend`` and are rotated about x and z
    ([H16] ``synParams``, ``rand_rot_axis``)."""
    return cell_type.startswith("p")


def random_rotation(cell_type):
    """The config's ``rotation`` of a cell type: every cell turned by a uniform random angle about
    z, the spiny stellate and interneuron types first by one about x through the soma
    ([H16] ``rand_rot_axis``: ``['z']`` for the pyramidal types, ``['x', 'z']`` for the others,
    angles uniform in [0, 2 pi) per cell, applied by LFPy's ``Cell.set_rotation`` in the order x,
    then z)."""
    return {"random_z": True} if is_pyramidal(cell_type) else {"random_x": True, "random_z": True}


def synapse_sections(cell_type):
    """Section groups that receive synapses ([H16] ``synParams``: never the soma)."""
    return ["apic", "dend"] if is_pyramidal(cell_type) else ["dend"]


def soma_depth_range(population):
    """``[z_min, z_max]`` (um) of the somata of ``population``'s cell types ([H16])."""
    bottom, top = LAYERS[POPULATION_LAYER[population]]
    middle = 0.5 * (bottom + top)
    return [middle - SOMA_HALF_HEIGHT, middle + SOMA_HALF_HEIGHT]


def occurrence(population):
    """``{y: F_y}`` of ``population``'s cell types: occurrences renormalised within it (sum 1)."""
    types = CELL_TYPES[population]
    occ = np.array([OCCURRENCE_PERCENT[y] for y in types])
    return dict(zip(types, (float(v) for v in occ / occ.sum())))


def synapses_by_layer(cell_type, pre):
    """``{layer: k_yXL}``: synapses per neuron of ``cell_type`` y in each layer of :data:`LAYERS`
    from the presynaptic population ``pre`` X (a name of :data:`PRESYNAPTIC_TYPES`)."""
    xs = PRESYNAPTIC_TYPES[pre]
    table = SYNAPSES[cell_type]
    out = {}
    for layer in LAYERS:
        k, percent = table.get(layer, (0.0, {}))
        out[layer] = float(k) * sum(percent.get(x, 0.0) for x in xs) / 100.0
    return out


def layer_specificity(cell_type, pre):
    """``{layer: L_yXL}`` with ``L_yXL = k_yXL / k_yX`` (sum 1), or None when y has no synapses
    from X in [B04] (k_yX = 0; [H16] then places none: its T_yX is 0)."""
    k = synapses_by_layer(cell_type, pre)
    total = sum(k.values())
    if total == 0:
        return None
    return {layer: v / total for layer, v in k.items()}


def type_specificity(post, pre):
    """``{y: T_yX}``: fraction of the X -> Y synapses onto each type y of Y (sum 1; all 0 when no
    type of Y has synapses from X)."""
    F = occurrence(post)
    weighted = {y: F[y] * sum(synapses_by_layer(y, pre).values()) for y in F}
    total = sum(weighted.values())
    return {y: (w / total if total > 0 else 0.0) for y, w in weighted.items()}


def relative_indegree(post, pre):
    """``{y: T_yX / F_y}``: each type's in-degree from X relative to the population's mean ([H16]
    per-type in-degrees; 1 for every type when the types do not differ)."""
    F = occurrence(post)
    T = type_specificity(post, pre)
    return {y: T[y] / F[y] for y in F}


def indegree_factors(post, pre, decimals=10):
    """The config's ``indegree_factors`` of connection ``pre -> post``: ``{y: f_y}`` with ``f_y =
    k_yX / sum_y' F_y' k_y'X`` (:func:`relative_indegree`, [H16]'s per-type in-degrees relative to
    the population's mean), rounded to ``decimals``. None when every factor is 1 (a population of
    one type, or types with the same synapse table: L5I's and L6I's) or when no type of ``post``
    has synapses from ``pre`` in [B04] (the factors are undefined; the population's in-degree is
    then shared alike).

    The rounding moves the occurrence-weighted mean ``sum_y F_y f_y`` from 1 by at most
    ``0.5e-10`` (F_y <= 1, sum 1), within the validator's 1e-9.
    """
    if not any(type_specificity(post, pre).values()):
        return None
    factors = {y: round(float(f), decimals) for y, f in relative_indegree(post, pre).items()}
    return None if all(f == 1.0 for f in factors.values()) else factors


def population_layer_specificity(post, pre):
    """``{layer: fraction}`` of all X -> Y synapses (types weighted by ``F_y k_yX``), or None when
    no type of Y has synapses from X."""
    F = occurrence(post)
    k = {layer: sum(F[y] * synapses_by_layer(y, pre)[layer] for y in F) for layer in LAYERS}
    total = sum(k.values())
    return None if total == 0 else {layer: v / total for layer, v in k.items()}


def placement_layers(post, pre, decimals=6):
    """The config's ``placement.layers`` of connection ``pre -> post``, per cell type of ``post``.

    Each type gets its L_yXL (:func:`layer_specificity`), rounded to ``decimals`` with the
    largest entry absorbing the rounding so the fractions sum to 1 exactly; zero layers are left
    out. A type without synapses from X in [B04] gets the population's distribution
    (:func:`population_layer_specificity`) and, if the whole population has none, all synapses in
    the population's own layer. The fallbacks are listed by :func:`fallbacks`.

    Returns
    -------
    dict
        ``{y: {layer: fraction}}``.
    """
    pop = population_layer_specificity(post, pre) or {POPULATION_LAYER[post]: 1.0}
    out = {}
    for y in CELL_TYPES[post]:
        frac = layer_specificity(y, pre) or pop
        rounded = {layer: round(v, decimals) for layer, v in frac.items() if round(v, decimals) > 0}
        top = max(rounded, key=rounded.get)
        rounded[top] = round(rounded[top] + 1.0 - sum(rounded.values()), decimals + 3)
        out[y] = rounded
    return out


def fallbacks(pairs=None):
    """``[(pre, post, cell_type, kind)]`` of the types :func:`placement_layers` gives a fallback
    (``kind`` ``population`` or ``own layer``), for the connections ``pairs`` (default: the 8 x 8)."""
    pairs = pairs or [(x, y) for y in POPULATIONS for x in POPULATIONS]
    out = []
    for pre, post in pairs:
        whole = population_layer_specificity(post, pre) is None
        for y in CELL_TYPES[post]:
            if layer_specificity(y, pre) is None:
                out.append((pre, post, y, "own layer" if whole else "population"))
    return out
