"""Spikes of other simulators and formats, each read into one validated :class:`lfpk.engines.spikes.SpikeData`.

Every reader gathers (population label or unit map, unit ids, times) and hands them to
:func:`assemble`, which converts the times to ms (units carried or stated by the format), and builds
a ``SpikeData`` -- so every source passes the same rules (:mod:`lfpk.engines.spikes.checks`). No
reader imports the library that wrote its input: files are read with netCDF4 (SONATA and NWB are
HDF5), objects by what they have (duck typing), so none of those libraries is a dependency.

* :func:`read_sonata` -- SONATA ``spikes.h5`` (BMTK, NetPyNE, ...): ``/spikes/<population>/
  timestamps`` and ``node_ids``, the ``units`` attribute, the ``sorting`` attribute;
* :func:`read_nwb` -- the ``units`` table of an NWB file (spike times in seconds);
* :func:`from_neo` -- Neo ``SpikeTrain`` lists, ``Segment``, ``Block`` (PyNN, Elephant);
* :func:`from_nest` -- NEST 3 ``spike_recorder`` NodeCollections (``record_to: memory``) or their
  ``events``, with the neurons' NodeCollections as the population map;
* :func:`from_brian2` -- Brian2 ``SpikeMonitor`` objects (``mon.t`` carries seconds; subgroup
  monitors are shifted by their ``start``);
* :func:`read_any` -- a SONATA (``.h5``/``.sonata``), NWB (``.nwb``) or Neo (``.nix``, ``.pkl``: the
  files PyNN's ``write_data`` makes) path; Neo files are read by Neo's own IO (``neo.io.get_io``, the
  optional extra ``formats``; ``.pkl`` files are Python pickles, which run code when loaded: read only
  files you trust).
"""

from __future__ import annotations

from pathlib import Path

from lfpk.engines.spikes import SpikeData
from lfpk.engines.spikes.errors import SpikeInputError
from lfpk.engines.spikes.formats.brian2 import from_brian2
from lfpk.engines.spikes.formats.neo import from_neo
from lfpk.engines.spikes.formats.nest import from_nest
from lfpk.engines.spikes.formats.nwb import read_nwb
from lfpk.engines.spikes.formats.parts import assemble
from lfpk.engines.spikes.formats.sonata import read_sonata

__all__ = ["read_sonata", "read_nwb", "from_neo", "from_nest", "from_brian2", "read_any", "is_format_file",
           "assemble", "FORMAT_SUFFIXES", "read_neo_file"]

#: suffix -> format of the files read into memory by :func:`read_any`
FORMAT_SUFFIXES = {".h5": "sonata", ".hdf5": "sonata", ".sonata": "sonata", ".nwb": "nwb", ".nix": "neo",
                   ".pkl": "neo"}


def read_neo_file(path, populations=None, tstop=None):
    """Spikes of a Neo file (``.nix``, ``.pkl``; PyNN's ``write_data``) as a ``SpikeData``, read by
    Neo's own IO (``neo.io.get_io``) and :func:`from_neo`; needs the optional ``neo`` package (and
    ``nixio`` for ``.nix``). A ``.pkl`` file is a Python pickle: loading it runs code in it."""
    try:
        import neo.io  # optional extra 'formats': only for Neo files
    except ImportError:
        raise SpikeInputError(f"{path}: a Neo file needs the neo package (pip install 'lfpk[formats]')") from None
    try:
        io = neo.io.get_io(str(path))
        block = io.read_block()
    except ImportError as exc:  # e.g. NixIO without nixio
        raise SpikeInputError(f"{path}: Neo cannot read it here ({exc}); install what it names") from None
    except Exception as exc:  # Neo's IOs fail in their own ways (UnpicklingError, KeyError, ...): bad input
        raise SpikeInputError(f"{path}: not a Neo file Neo can read ({type(exc).__name__}: {exc})") from None
    return from_neo(block, populations=populations, tstop=tstop)


def is_format_file(spikes) -> bool:
    """True for one path (or a one-element list of a path) whose suffix is a SONATA or NWB file's."""
    if isinstance(spikes, (list, tuple)) and len(spikes) == 1:
        spikes = spikes[0]
    if not isinstance(spikes, (str, Path)):
        return False
    return Path(str(spikes)).suffix.lower() in FORMAT_SUFFIXES


def read_any(spikes, populations=None, tstop=None, time_unit=None) -> SpikeData:
    """Read a SONATA, NWB or Neo file (by suffix, :data:`FORMAT_SUFFIXES`) into a ``SpikeData``.

    Parameters
    ----------
    spikes : path-like or one-element list of it
    populations : path-like, dict or PopulationMap, optional
        Node/unit id -> population map.
    tstop : float, optional
        Stop time (ms).
    time_unit : {'ms', 's'}, optional
        Unit of times whose file states none.
    """
    if isinstance(spikes, (list, tuple)):
        spikes = spikes[0]
    kind = FORMAT_SUFFIXES[Path(str(spikes)).suffix.lower()]
    if kind == "neo":
        if time_unit is not None:
            raise SpikeInputError(f"{spikes}: Neo spike trains carry their time unit; got time unit {time_unit!r}")
        return read_neo_file(spikes, populations=populations, tstop=tstop)
    if kind == "nwb":
        if time_unit not in (None, "s"):
            raise SpikeInputError(f"{spikes}: NWB spike times are seconds by the NWB standard; got time unit "
                                  f"{time_unit!r}")
        return read_nwb(spikes, populations=populations, tstop=tstop)
    return read_sonata(spikes, populations=populations, tstop=tstop, time_unit=time_unit)
