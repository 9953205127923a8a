"""write_texts: several files, all or none — whatever step fails."""

import os

import pytest

from commgov.io import write_texts


def _state(folder):
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.iterdir())}


def test_all_written(tmp_path):
    paths = write_texts({tmp_path / "a.txt": "A", tmp_path / "sub" / "b.txt": "B"})
    assert [p.read_text(encoding="utf-8") for p in paths] == ["A", "B"]
    assert oct(paths[0].stat().st_mode & 0o777) == oct(0o644)


def test_target_that_is_a_folder_changes_nothing(tmp_path):
    (tmp_path / "a.txt").write_text("OLD", encoding="utf-8")
    (tmp_path / "isdir").mkdir()
    with pytest.raises(IsADirectoryError, match="isdir"):
        write_texts({tmp_path / "a.txt": "NEW", tmp_path / "isdir": "x"})
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "OLD"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "isdir"]


@pytest.mark.parametrize("fail_at", [0, 1, 2])
def test_failed_rename_restores_every_target(tmp_path, monkeypatch, fail_at):
    (tmp_path / "a.txt").write_text("OLD-A", encoding="utf-8")
    (tmp_path / "c.txt").write_text("OLD-C", encoding="utf-8")
    before = _state(tmp_path)
    real = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        if str(src).endswith(".tmp"):
            if calls["n"] == fail_at:
                raise PermissionError(13, "Permission denied")
            calls["n"] += 1
        return real(src, dst)

    monkeypatch.setattr(os, "replace", flaky)
    with pytest.raises(PermissionError, match="cannot write"):
        write_texts(
            {tmp_path / "a.txt": "NEW-A", tmp_path / "b.txt": "NEW-B", tmp_path / "c.txt": "NEW-C"}
        )
    assert _state(tmp_path) == before  # old contents back, new file gone, no temporaries


def test_existing_mode_is_kept(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("x", encoding="utf-8")
    target.chmod(0o600)
    write_texts({target: "y"})
    assert target.stat().st_mode & 0o777 == 0o600


def test_bytes_are_written_as_they_are_beside_texts(tmp_path):
    blob = bytes(range(256)) + b"\r\n"
    paths = write_texts({tmp_path / "a.bin": blob, tmp_path / "b.txt": "é\n"})
    assert paths[0].read_bytes() == blob
    assert paths[1].read_bytes() == "é\n".encode()
