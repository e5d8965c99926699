"""Every kind of bad input a landing folder gets, dropped in together and run through the whole
graph: each file gets an outcome, nothing is lost, and one bad file never blocks the others.
One test per row of the README table "What happens to bad input"."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.conftest import Built, make_settings, run_pipeline

LATIN1 = "Börsen schließen im Minus\nGrève générale en France\nSánchez gana las elecciones\n"
UTF16 = "Ukraine: Waffenruhe gebrochen\nGrève des cheminots\n"


@pytest.fixture(scope="module")
def messy(tmp_path_factory: pytest.TempPathFactory) -> Built:
    import dagster as dg

    root = tmp_path_factory.mktemp("messy")
    settings = make_settings(root)
    raw = settings.raw_dir
    (raw / "bom_crlf.txt").write_bytes(
        b"\xef\xbb\xbf" + "-\r\nFed holds rates steady\r\n-\r\nBörsen im Plus\r\n".encode()
    )
    (raw / "western.txt").write_bytes(LATIN1.encode("cp1252"))
    (raw / "utf16.txt").write_bytes(UTF16.encode("utf-16"))
    (raw / "binary.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8)
    rng = random.Random(3)
    (raw / "noise.dat").write_bytes(bytes(rng.randrange(1, 256) for _ in range(4096)))  # random, no NUL
    (raw / "empty.txt").write_bytes(b"")
    (raw / "original.txt").write_text("-\nSame bytes twice\n-\nUnder two names\n", encoding="utf-8")
    (raw / "copy of original.txt").write_text("-\nSame bytes twice\n-\nUnder two names\n", encoding="utf-8")
    (raw / "long_line.txt").write_text(
        "Short headline here\n" + "x" * 1_000_000 + "\nAnother headline\n", encoding="utf-8"
    )
    (raw / "tabs.txt").write_text(
        "-\n\tTabbed   headline \t with  gaps   \n-\nTrailing spaces headline   \n", encoding="utf-8"
    )
    (raw / "odd 'name' \"quoted\" ünïcode ; drop table raw.files; --.txt").write_text(
        "-\nHeadline in an oddly named file\n", encoding="utf-8"
    )
    (raw / "sub" / "deeper").mkdir(parents=True)
    (raw / "sub" / "deeper" / "nested.txt").write_text("-\nHeadline from a sub-folder\n", encoding="utf-8")
    outside = root / "outside.txt"
    outside.write_text("-\nSecret outside the raw dir\n", encoding="utf-8")
    (raw / "escape.txt").symlink_to(outside)
    (raw / "inside_link.txt").symlink_to(raw / "original.txt")
    (raw / "loop").symlink_to(raw, target_is_directory=True)  # a folder loop: not followed
    os.mkfifo(raw / "pipe.txt")  # not a regular file: reading it would hang
    (raw / ".partial.txt").write_text("-\nHidden, still being written\n", encoding="utf-8")
    instance = dg.DagsterInstance.ephemeral()
    return Built(settings, run_pipeline(settings, instance), instance)


def _file(messy: Built, path: str) -> tuple:
    rows = messy.query(
        "select status, encoding, reason, line_count, file_id from raw.files where path = ?", [path]
    )
    assert rows, path
    return rows[0]


def test_bad_input_does_not_block_the_run(messy: Built) -> None:
    assert messy.result.success
    assert all(c.passed for c in messy.result.get_asset_check_evaluations())
    assert messy.settings.analytics_path.exists()


def test_utf8_bom_and_crlf(messy: Built) -> None:
    status, encoding, _, lines, file_id = _file(messy, "bom_crlf.txt")
    assert (status, encoding, lines) == ("loaded", "utf-8-sig", 4)
    texts = [
        t for (t,) in messy.query("select text from raw.lines where file_id = ? order by line_no", [file_id])
    ]
    assert texts == ["-", "Fed holds rates steady", "-", "Börsen im Plus"]  # no BOM, no \r


def test_western_code_page_decodes_without_mojibake(messy: Built) -> None:
    status, encoding, *_ = _file(messy, "western.txt")
    assert (status, encoding) == ("loaded", "cp1252")
    headlines = {t for (t,) in messy.query("select text from marts.headlines")}
    assert {
        "Börsen schließen im Minus",
        "Grève générale en France",
        "Sánchez gana las elecciones",
    } <= headlines


def test_utf16_with_bom(messy: Built) -> None:
    status, encoding, *_ = _file(messy, "utf16.txt")
    assert (status, encoding) == ("loaded", "utf-16")
    assert messy.query("select count(*) from marts.headlines where text = 'Grève des cheminots'") == [(1,)]


@pytest.mark.parametrize(("path", "reason"), [("binary.bin", "NUL byte"), ("noise.dat", "")])
def test_binary_files_are_rejected_with_a_reason_and_never_half_loaded(
    messy: Built, path: str, reason: str
) -> None:
    status, encoding, why, lines, file_id = _file(messy, path)
    assert (status, encoding, lines) == ("rejected", None, 0)
    assert reason in why and ("binary" in why or "not valid UTF-8" in why)
    assert messy.query("select count(*) from raw.lines where file_id = ?", [file_id]) == [(0,)]
    report = (messy.settings.report_dir / "runs" / f"{messy.result.run_id}.html").read_text(encoding="utf-8")
    assert "rejected" in report  # the raw gate's "every rejected file says why" expectation is listed


def test_empty_file_is_recorded_without_rows(messy: Built) -> None:
    assert _file(messy, "empty.txt")[:4] == ("empty", "utf-8", "empty file", 0)


def test_same_bytes_under_another_name_load_once(messy: Built) -> None:
    file_id = _file(messy, "copy of original.txt")[4]  # first in sorted order
    assert messy.query("select count(*) from raw.files where file_id = ?", [file_id]) == [(1,)]
    paths = {p for (p,) in messy.query("select path from raw.file_paths where file_id = ?", [file_id])}
    assert paths == {"copy of original.txt", "original.txt", "inside_link.txt"}
    assert messy.query("select count(*) from marts.headlines where text = 'Same bytes twice'") == [(1,)]


def test_one_megabyte_line_is_kept_whole_and_read_as_body_text(messy: Built) -> None:
    file_id = _file(messy, "long_line.txt")[4]
    assert messy.query("select length(text) from raw.lines where file_id = ? and line_no = 2", [file_id]) == [
        (1_000_000,)
    ]
    assert messy.query(
        "select role, rule from marts.line_roles where file_id = ? and line_no = 2", [file_id]
    ) == [("paragraph", "over_long_line")]
    assert messy.query("select max(length(text)) from marts.headlines")[0][0] <= 300


def test_tabs_and_trailing_spaces(messy: Built) -> None:
    file_id = _file(messy, "tabs.txt")[4]
    assert messy.query("select text from raw.lines where file_id = ? and line_no = 2", [file_id]) == [
        ("\tTabbed   headline \t with  gaps   ",)
    ]
    assert messy.query("select text from marts.headlines where file_id = ? order by line_no", [file_id]) == [
        ("Tabbed headline with gaps",),
        ("Trailing spaces headline",),
    ]


def test_odd_path_reaches_sql_only_as_a_parameter(messy: Built) -> None:
    path = "odd 'name' \"quoted\" ünïcode ; drop table raw.files; --.txt"
    assert _file(messy, path)[0] == "loaded"
    assert messy.query(
        "select count(*) from marts.headlines where text = 'Headline in an oddly named file'"
    ) == [(1,)]


def test_sub_folders_are_read(messy: Built) -> None:
    assert _file(messy, "sub/deeper/nested.txt")[0] == "loaded"


def test_symlinks_never_escape_the_raw_dir(messy: Built) -> None:
    rejected = dict(messy.query("select path, reason from raw.rejected_paths"))
    assert "outside the raw dir" in rejected["escape.txt"]
    assert not messy.query("select * from raw.files where path = 'escape.txt'")
    assert not messy.query("select * from marts.headlines where text like 'Secret%'")
    assert not messy.query(
        "select * from raw.file_paths where path like 'loop/%'"
    )  # folder links not followed


def test_special_files_and_hidden_files(messy: Built) -> None:
    rejected = dict(messy.query("select path, reason from raw.rejected_paths"))
    assert rejected["pipe.txt"] == "not a regular file"
    assert not messy.query("select * from raw.file_paths where path like '.partial%'")


def test_every_path_has_an_outcome(messy: Built) -> None:
    raw = messy.settings.raw_dir
    seen = {
        p for (p,) in messy.query("select path from raw.file_paths union select path from raw.rejected_paths")
    }
    on_disk = set()
    for folder, dirs, files in os.walk(raw, followlinks=False):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        on_disk |= {Path(folder, f).relative_to(raw).as_posix() for f in files if not f.startswith(".")}
    assert on_disk == seen
