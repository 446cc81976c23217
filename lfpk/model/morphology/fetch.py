"""Morphology files from their public source, pinned by SHA-256.

A population (or one of its cell types, ``cell_types.<name>.morphology``: docs/layers.md) may name
where its morphology comes from::

    morphology:
      file: ../resources/hay2011/cell1.asc     # where it is stored (relative to the config file)
      url: https://raw.githubusercontent.com/.../cell1.asc
      sha256: a8afc0925afe...                  # the pinned content
      citation: Hay et al. (2011) PLoS Comput Biol 7:e1002107; ModelDB 139653

:func:`fetch` downloads a missing file (the workflow's ``fetch_morphologies`` rule, ``lfpk
fetch``), checks its digest and only then moves it into place, so a half-written or wrong file is
never left where the study reads it. Without network access it fails with one message naming the
address, the place to put the file and its digest, for a download by hand. Every cell built from a
file with a pinned ``sha256`` checks it (:func:`verify`): a file with other content is refused.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

#: Seconds before a download attempt is given up.
TIMEOUT = 60.0


class FetchError(OSError):
    """A morphology could not be downloaded or has the wrong content; the message says what to do
    (an ``OSError``: the CLI reports it in one line with exit status 2)."""


@dataclass(frozen=True)
class Source:
    """Where one population's morphology file comes from.

    Attributes
    ----------
    population : str
    cell_type : str or None
        The cell type whose morphology it is (None: the population's own).
    file : str
        Absolute path the file is stored at.
    url : str
        Public address.
    sha256 : str
        Pinned digest (lower-case hex).
    citation : str
        Reference of the file's origin ('' if none).
    """

    population: str
    file: str
    url: str
    sha256: str
    citation: str = ""
    cell_type: str | None = None

    @property
    def what(self) -> str:
        if self.cell_type is not None:
            return f"populations.{self.population}.cell_types.{self.cell_type}.morphology"
        return f"populations.{self.population}.morphology"

    def manual(self) -> str:
        """How to provide the file by hand."""
        return (f"download {self.url} on a machine with network access and save it as {self.file} "
                f"(sha256 {self.sha256}; e.g. curl -L -o {self.file} {self.url})")


def sources(cfg, populations=None) -> list[Source]:
    """Every morphology with a ``url`` of the populations and their cell types (paths resolved
    as in the config); a file named by several entries is listed once, under the first."""
    out, seen = [], set()
    for name, pop in cfg["populations"].items():
        if populations is not None and name not in populations:
            continue
        entries = [(None, pop.get("morphology") or {})]
        entries += [(t, entry.get("morphology") or {}) for t, entry in (pop.get("cell_types") or {}).items()]
        for cell_type, morph in entries:
            if morph.get("url") and str(morph["file"]) not in seen:
                seen.add(str(morph["file"]))
                out.append(Source(name, str(morph["file"]), str(morph["url"]), str(morph["sha256"]),
                                  str(morph.get("citation") or ""), cell_type))
    return out


def sha256_of(path) -> str:
    """SHA-256 (hex) of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify(path, sha256, what="morphology") -> None:
    """Raise :class:`FetchError` unless ``path`` has the pinned digest ``sha256``."""
    got = sha256_of(path)
    if got != sha256:
        raise FetchError(f"{what}.sha256: {path} has sha256 {got}, expected {sha256}: not the pinned file "
                         "(delete it to download it again, or correct the digest if the source changed)")


def fetch(source: Source, timeout=TIMEOUT) -> Path:
    """Download ``source`` unless its file exists; check the digest; return the file's path.

    The download goes to a temporary file next to the destination and is renamed into place only
    after its digest matched; an existing file is never overwritten (it is verified instead).

    Raises
    ------
    FetchError
        No network access or a failing address (the message says how to provide the file by
        hand), or content with another digest.
    """
    dest = Path(source.file)
    if dest.exists():
        verify(dest, source.sha256, source.what)
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"{source.what}.file: cannot create the folder of {dest}: {exc.strerror}") from None
    fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(source.url, timeout=timeout) as response:
                    shutil.copyfileobj(response, out)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                reason = getattr(exc, "reason", None) or exc
                raise FetchError(f"{source.what}.url: cannot download {source.url} ({reason}). Without "
                                 f"network access, {source.manual()}") from None
        got = sha256_of(tmp)
        if got != source.sha256:
            raise FetchError(f"{source.what}.sha256: {source.url} delivered content with sha256 {got}, expected "
                             f"{source.sha256}; nothing was stored (check the address and the digest)")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
        return dest
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def fetch_all(cfg, populations=None, timeout=TIMEOUT) -> list[Path]:
    """Fetch every configured morphology source (see :func:`fetch`); one error lists all failures."""
    errors, done = [], []
    for src in sources(cfg, populations):
        try:
            done.append(fetch(src, timeout))
        except FetchError as exc:
            errors.append(str(exc))
    if errors:
        raise FetchError("\n".join(errors))
    return done
