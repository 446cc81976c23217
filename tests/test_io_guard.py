"""The output guard every command writes through (lfpk.base.io): inputs are never overwritten, no
folder is created unless asked, interrupts leave nothing behind, full disks and read-only folders
are named."""

import os
import shutil
import signal
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
from ncfiles import netcdf_layout

from lfpk.base import files, io
from lfpk.base.errors import InputError, Interrupted, OutputError


def dataset(n=10):
    return xr.Dataset({"x": ("t", np.arange(n, dtype=float), {"units": "1", "long_name": "x"})})


def test_output_equal_to_input_refused_by_path_symlink_and_inode(tmp_path):
    src = io.write_dataset(dataset(), tmp_path / "in.nc")
    before = src.read_bytes()
    link = tmp_path / "link.nc"
    link.symlink_to(src)
    hard = tmp_path / "hard.nc"
    os.link(src, hard)
    for out in (src, tmp_path / "." / "in.nc", link, hard):
        with pytest.raises(OutputError, match="refusing to overwrite an input"):
            io.write_dataset(dataset(3), out, inputs=[src])
    # an input read inside a command scope is protected without being named
    with files.command_scope():
        io.read_dataset(hard)
        with pytest.raises(OutputError, match=r"is the input .*hard\.nc"):
            io.write_dataset(dataset(3), src)
    assert src.read_bytes() == before
    # outside a scope the library may overwrite its own files
    io.write_dataset(dataset(3), src)
    assert io.read_dataset(src).sizes["t"] == 3


def test_input_read_after_its_output_was_checked_is_refused_at_once(tmp_path):
    """Issue 22: outputs are checked before a command reads its config; a file read later (a
    config's base file, a morphology, spikes) that is a checked, unwritten output is refused when
    it is read, before the work, and the file is kept. An output written and then read is fine."""
    src = io.write_dataset(dataset(), tmp_path / "in.nc")
    before = src.read_bytes()
    with files.command_scope():
        files.check_output(src)  # e.g. run_parsed's check of --output before the config is read
        with pytest.raises(OutputError, match=rf"output {src} is the input .*in\.nc: refusing to overwrite"):
            io.read_dataset(src)
        with pytest.raises(OutputError, match="refusing to overwrite an input"):
            files.register_input(tmp_path / "." / "in.nc")
    assert src.read_bytes() == before
    # written through the guard, then read (a figure from the tables just written): allowed
    out = tmp_path / "out.nc"
    with files.command_scope():
        files.check_output(out)
        io.write_dataset(dataset(4), out)
        assert io.read_dataset(out).sizes["t"] == 4
    # outside a command scope nothing is declared
    files.check_output(src)
    io.read_dataset(src)


def test_unwritable_output_folder_is_refused_by_the_check(tmp_path):
    """A folder the user cannot write is refused when the output is checked, before any work (as
    `nobody` when run as root, since root writes into read-only folders)."""
    import tempfile

    shared = tempfile.mkdtemp(prefix="lfpk-ro-")
    os.chmod(shared, 0o555)
    code = ("from lfpk.base.files import check_output\n"
            "from lfpk.base.errors import OutputError\n"
            "try:\n"
            f"    check_output({shared!r} + '/x.nc')\n"
            "except OutputError as exc:\n"
            "    print(exc)\n")
    prefix = []
    if os.geteuid() == 0:
        assert shutil.which("setpriv"), "needs setpriv to drop root's privileges"
        prefix = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
    try:
        proc = subprocess.run([*prefix, sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                              cwd=shared)
    finally:
        os.chmod(shared, 0o755)
        os.rmdir(shared)
    assert proc.stdout.strip() == f"cannot write {shared}/x.nc: permission denied (folder {shared})", proc.stderr


def test_missing_folder_not_created_unless_documented(tmp_path):
    out = tmp_path / "typo" / "deeper" / "x.nc"
    with pytest.raises(OutputError, match=r"output folder .*typo/deeper does not exist"):
        io.write_dataset(dataset(), out)
    assert not (tmp_path / "typo").exists()
    io.write_dataset(dataset(), out, create_parent=True)
    assert out.is_file()


def test_output_that_is_a_folder_or_under_a_file(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(OutputError, match="is a folder; expected a file name"):
        io.write_dataset(dataset(), tmp_path / "d")
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputError, match="is not a folder"):
        io.write_dataset(dataset(), tmp_path / "f" / "x.nc")
    with pytest.raises(OutputError, match="is a file; expected a folder"):
        files.output_folder(tmp_path / "f")


def test_error_inside_block_leaves_no_temporary(tmp_path):
    with pytest.raises(RuntimeError):
        with files.atomic_path(tmp_path / "x.nc") as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_signal_during_write_is_deferred_then_cleans_up(tmp_path):
    """SIGINT or SIGTERM while the netCDF library writes: the write finishes, then the temporary
    file is removed and Interrupted is raised (never inside HDF5, whose lock it could leave held)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        reached = []
        with pytest.raises(Interrupted) as info:
            with files.atomic_path(tmp_path / "x.nc") as tmp:
                with files.deferred_signals():
                    os.kill(os.getpid(), signum)
                    dataset().to_netcdf(tmp, engine="netcdf4")
                    reached.append(True)  # the signal did not interrupt the write
        assert reached and info.value.signum == signum
        assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handlers restored


def test_sigterm_outside_the_write_also_cleans_up(tmp_path):
    with pytest.raises(Interrupted):
        with files.atomic_path(tmp_path / "x.nc") as tmp:
            tmp.write_text("partial")
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert list(tmp_path.iterdir()) == []


def test_pair_written_both_or_neither(tmp_path, monkeypatch):
    a, b = tmp_path / "a.nc", tmp_path / "b.csv"
    # a failure while writing the second file: neither appears
    with pytest.raises(RuntimeError):
        with files.atomic_paths([a, b]) as (ta, tb):
            ta.write_text("complete")
            raise RuntimeError("second writer failed")
    assert list(tmp_path.iterdir()) == []
    # an older pair exists; the second rename fails: the first file is restored
    a.write_text("old a")
    b.write_text("old b")
    real = os.replace
    calls = []

    def flaky(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return real(src, dst)

    monkeypatch.setattr(files.os, "replace", flaky)
    with pytest.raises(OSError):
        with files.atomic_paths([a, b]) as (ta, tb):
            ta.write_text("new a")
            tb.write_text("new b")
    monkeypatch.setattr(files.os, "replace", real)
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.nc", "b.csv"]
    with pytest.raises(OutputError, match="given twice"):
        with files.atomic_paths([a, tmp_path / "." / "a.nc"]):
            pass


def test_read_dataset_names_file_and_expectation(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.nc does not exist"):
        io.read_dataset(tmp_path / "missing.nc")
    with pytest.raises(InputError, match="is a folder; expected a netCDF file"):
        io.read_dataset(tmp_path)
    (tmp_path / "text.nc").write_text("sender,time_ms\n1,2.0\n")
    with pytest.raises(InputError, match=r"text.nc: not a netCDF file; expected gathered kernels"):
        io.read_dataset(tmp_path / "text.nc", kind="kernels")
    good = io.write_dataset(dataset(100000), tmp_path / "good.nc")
    (tmp_path / "trunc.nc").write_bytes(good.read_bytes()[:4000])
    with pytest.raises(InputError, match="trunc.nc: unreadable or truncated netCDF file"):
        io.read_dataset(tmp_path / "trunc.nc")
    with pytest.raises(InputError, match="good.nc: expected the network's spikes"):
        io.read_dataset(good, kind="spikes")


def _unshare(folder):
    """Prefix that runs a shell script in private user and mount namespaces (for tmpfs mounts),
    or None where user namespaces are not available."""
    exe = shutil.which("unshare")
    if exe is None:
        return None
    probe = subprocess.run([exe, "-Urm", "sh", "-c", 'mount -t tmpfs tmpfs "$0"', str(folder)],
                           capture_output=True)
    return [exe, "-Urm", "sh", "-c"] if probe.returncode == 0 else None


def test_full_disk_and_read_only_folder_are_named(tmp_path):
    """A 64 kB tmpfs fills up, a read-only tmpfs refuses files: each gives one clear message."""
    prefix = _unshare(tmp_path)
    if prefix is None:
        pytest.skip("needs unshare -Urm with tmpfs mounts (user namespaces) to fake a full disk")
    full, ro = tmp_path / "full", tmp_path / "ro"
    full.mkdir()
    ro.mkdir()
    code = ("import numpy as np, xarray as xr\n"
            "from lfpk.base import io\n"
            "from lfpk.base.errors import OutputError\n"
            "ds = xr.Dataset({'x': ('t', np.random.default_rng(0).normal(size=200000), {'units': '1', 'long_name': 'x'})})\n"
            "for out in ('full/x.nc', 'ro/x.nc'):\n"
            "    try:\n"
            "        io.write_dataset(ds, out)\n"
            "    except OutputError as exc:\n"
            "        print(exc)\n")
    script = (f"mount -t tmpfs -o size=64k tmpfs full && mount -t tmpfs -o ro tmpfs ro && "
              f"{sys.executable} -c \"$0\" && ls -A full ro")
    proc = subprocess.run([*prefix, script, code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "no space left on device: full/x.nc", proc.stdout
    assert lines[1] == "cannot write ro/x.nc: read-only file system (folder ro)", proc.stdout
    assert "x.nc" not in proc.stdout.split("\n", 2)[2] and ".tmp" not in proc.stdout  # nothing left


def test_block_writer_writes_what_the_whole_dataset_would(tmp_path):
    """A dataset streamed in blocks along time is the file xarray writes for the whole dataset:
    the same data bitwise, dims, coordinates (incl. the auxiliary one a variable spans),
    attributes and encoding."""
    rng = np.random.default_rng(3)
    nt = 1000
    full = xr.Dataset(
        {"v": (("source", "channel", "time"), rng.normal(size=(2, 4, nt)), {"units": "mV", "long_name": "v"}),
         "w": (("component", "time"), rng.normal(size=(3, nt)), {"units": "nA um", "long_name": "w"})},
        coords={"source": ["total", "E"], "channel": np.arange(4),
                "channel_z": ("channel", np.linspace(0, 300, 4), {"units": "um", "long_name": "depth"}),
                "component": ["x", "y", "z"], "time": ("time", np.arange(nt) * 0.5, {"units": "ms", "long_name": "t"})},
        attrs={"a": 1, "b": "text", "c": 0.25})
    io.write_dataset(full, tmp_path / "whole.nc")
    streamed = {k: (v.dims, v.dtype, v.attrs) for k, v in full.data_vars.items()}
    with files.atomic_path(tmp_path / "blocks.nc") as tmp:
        # a small buffer: written every few blocks (and the rest at close)
        w = io.BlockWriter(tmp, full.drop_vars(list(streamed)).drop_attrs(deep=False), streamed, buffer_bytes=40000)
        for a in range(0, nt, 256):  # the last block is partial
            w.write(a, {k: full[k].values[..., a:a + 256] for k in streamed})
        w.close(full.attrs)
    assert netcdf_layout(tmp_path / "blocks.nc") == netcdf_layout(tmp_path / "whole.nc")
    got = io.read_dataset(tmp_path / "blocks.nc")
    xr.testing.assert_identical(got, io.read_dataset(tmp_path / "whole.nc"))
    assert got["v"].attrs == full["v"].attrs and "channel_z" in got["v"].coords


def test_block_writer_refuses_gaps_and_incomplete_files(tmp_path):
    full = dataset(10)
    streamed = {"x": (("t",), np.float64, {"units": "1", "long_name": "x"})}
    template = xr.Dataset(coords={"t": np.arange(10)})
    with pytest.raises(RuntimeError, match=r"written up to these samples of 10"):
        with files.atomic_path(tmp_path / "x.nc") as tmp:
            w = io.BlockWriter(tmp, template, streamed, dim="t")
            w.write(0, {"x": full["x"].values[:4]})
            with pytest.raises(ValueError, match="does not continue"):
                w.write(5, {"x": full["x"].values[5:]})
            w.close()
    assert list(tmp_path.iterdir()) == []  # nothing half-written
    with pytest.raises(ValueError, match="lacks the 'units' attribute"):
        io.BlockWriter(tmp_path / "y.nc", template, {"x": (("t",), np.float64, {"long_name": "x"})}, dim="t")


def test_stale_temporaries_of_killed_writers_are_removed(tmp_path):
    """A writer killed by SIGKILL leaves its temporary file; the next write of that output removes
    it (its process is gone), but never a running writer's or another host's."""
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(proc.stdout)
    host = files._host()
    stale = tmp_path / f".x.nc.{host}-{dead}.abcd1234.tmp"
    running = tmp_path / f".x.nc.{host}-{os.getppid()}.abcd1234.tmp"
    remote = tmp_path / f".x.nc.{host}other-{dead}.abcd1234.tmp"
    other = tmp_path / f".y.nc.{host}-{dead}.abcd1234.tmp"
    for p in (stale, running, remote, other):
        p.write_text("partial")
    with files.atomic_path(tmp_path / "x.nc") as tmp:
        assert tmp.name.startswith(f".x.nc.{host}-{os.getpid()}.")
        dataset().to_netcdf(tmp, engine="netcdf4")
    assert not stale.exists() and running.exists() and remote.exists() and other.exists()
    assert (tmp_path / "x.nc").is_file()


def test_block_writer_from_layout(tmp_path):
    """An explicit layout (the prediction file's route): dims in order, one unlimited; stored
    variables written at creation; streamed ones chunked, compressed, without fill values."""
    import netCDF4

    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 70))
    variables = {
        "t": io.Streamed(("t",), np.float64, {"units": "ms", "long_name": "time"}, {"chunksizes": (16,)}),
        "name": io.Stored(("row",), ["a", "b"], {"long_name": "row name"}),
        "x": io.Streamed(("row", "t"), np.float32, {"units": "mV", "long_name": "x", "coordinates": "name"},
                         {"chunksizes": (1, 16), "compress": 3, "cache_bytes": 1 << 16}),
    }
    with files.atomic_path(tmp_path / "x.nc") as tmp:
        w = io.BlockWriter.from_layout(tmp, {"t": None, "row": 2}, variables, dim="t", attrs={"a": True})
        for a in range(0, 70, 32):
            w.write(a, {"t": np.arange(a, min(a + 32, 70)) * 0.5, "x": x[:, a:a + 32].astype(np.float32)})
        w.close({"b": "done"})
    with netCDF4.Dataset(tmp_path / "x.nc") as f:
        assert list(f.dimensions) == ["t", "row"] and f.dimensions["t"].isunlimited()
        assert list(f.variables) == ["t", "name", "x"]
        assert f["x"].chunking() == [1, 16] and f["x"].filters()["zlib"] and f["x"].filters()["shuffle"]
        assert "_FillValue" not in f["x"].ncattrs() and f.getncattr("a") == 1 and f.getncattr("b") == "done"
    got = io.read_dataset(tmp_path / "x.nc")
    assert got["x"].values.tobytes() == x.astype(np.float32).tobytes()
    assert got["name"].values.tolist() == ["a", "b"] and "name" in got["x"].coords
