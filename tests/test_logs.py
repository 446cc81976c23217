"""lfpk.base.logs.log_to: what a workflow script's log file holds when the script fails."""

import pytest

from lfpk.base.logs import log_to


def test_deliberate_exit_leaves_its_status_not_a_traceback(tmp_path):
    path = tmp_path / "job.log"
    with pytest.raises(SystemExit), log_to(path) as log:
        log.error("populations.E.morphology.url: cannot download it")
        raise SystemExit(1)
    text = path.read_text()
    assert "cannot download it" in text
    assert "exit status 1" in text
    assert "Traceback" not in text


def test_clean_exit_logs_nothing_more(tmp_path):
    path = tmp_path / "job.log"
    with pytest.raises(SystemExit), log_to(path):
        raise SystemExit(0)
    assert path.read_text() == ""


def test_unexpected_error_keeps_its_traceback(tmp_path):
    path = tmp_path / "job.log"
    with pytest.raises(RuntimeError), log_to(path):
        raise RuntimeError("a bug")
    text = path.read_text()
    assert "Traceback" in text and "RuntimeError: a bug" in text
