"""Checks shared by the tests of the paper figures (Model A: test_paper_figures.py, Model B:
test_hay2011_study.py)."""

from lfpk.figures.paper import read_panels


def checked_paper_figure(png, name, want=None):
    """Metadata of paper figure ``name`` (``png``, its PDF beside it) after the common checks.

    The PDF is a PDF, the PNG is not blank, the metadata names the figure, and, with ``want``
    (``{letter: (xlabel, ylabel)}``, ``''`` for no check), the panels are exactly ``want``'s
    letters in order with those axis labels.
    """
    import matplotlib.image

    assert png.with_suffix(".pdf").read_bytes()[:5] == b"%PDF-"
    assert matplotlib.image.imread(png)[..., :3].std() > 0.05, f"{png} looks blank"
    meta = read_panels(png)
    assert meta["figure"] == name
    if want is not None:
        got = {p["letter"]: p for p in meta["panels"]}
        assert list(got) == list(want), (name, list(got))
        for letter, (xlabel, ylabel) in want.items():
            if xlabel:
                assert got[letter]["xlabel"] == xlabel, (name, letter, got[letter])
            if ylabel:
                assert got[letter]["ylabel"] == ylabel, (name, letter, got[letter])
    return meta
