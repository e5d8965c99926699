"""The loader on real and bad files: hashing, decoding, line splitting, idempotence, no half loads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from assets.decoding import UndecodableError, decode_bytes, sha256_hex, split_lines
from assets.raw_store import load_raw_dir
from tests.conftest import SAMPLE_RAW


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\nb", ["a", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\rb\r", ["a", "b"]),
        ("a\n\nb", ["a", "", "b"]),
        ("a\r\n\r\nb", ["a", "", "b"]),
        ("\n", [""]),
        ("a\x0bb\x0cc\u2028d", ["a\x0bb\x0cc\u2028d"]),  # only \n, \r\n, \r break lines
    ],
)
def test_split_lines(text: str, lines: list[str]) -> None:
    assert split_lines(text) == lines


def test_decode_utf8_with_and_without_bom() -> None:
    assert decode_bytes("Börsen\n".encode()).encoding == "utf-8"
    decoded = decode_bytes(b"\xef\xbb\xbf" + "Grève".encode())
    assert (decoded.text, decoded.encoding) == ("Grève", "utf-8-sig")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"abc\x00def", "NUL byte at offset 3"),
        (bytes(range(1, 32)) * 20, "binary content: .* control characters"),
        (b"\xff\xfe" + b"\x00\xd8", "utf-16 byte-order mark, but invalid utf-16"),
    ],
)
def test_undecodable_bytes_give_a_reason(data: bytes, reason: str) -> None:
    with pytest.raises(UndecodableError, match=reason):
        decode_bytes(data)


@pytest.mark.parametrize(
    ("text", "encoding", "detected"),
    [
        ("Börsen schließen im Minus\nGrève générale\nSánchez gana\n", "cp1252", "cp1252"),
        ("Sánchez\n", "latin-1", "cp1252"),
        ("Zażółć gęślą jaźń\n", "cp1250", "cp1250"),
        ("Москва: новые санкции\n", "cp1251", "cp1251"),
        ("İstanbul'da büyük şok\n", "cp1254", "cp1254"),
        ("Grève\n", "utf-16", "utf-16"),
        ("Grève\n", "utf-16-le", "utf-16-le"),
        ("Москва\n", "utf-16-be", "utf-16-be"),
        ("Grève\n", "utf-32", "utf-32"),
    ],
)
def test_legacy_and_wide_encodings_decode_without_mojibake(text: str, encoding: str, detected: str) -> None:
    decoded = decode_bytes(text.encode(encoding))
    assert (decoded.text, decoded.encoding) == (text, detected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_decode_never_raises_anything_but_undecodable(data: bytes) -> None:
    try:
        decoded = decode_bytes(data)
    except UndecodableError as exc:
        assert str(exc)
    else:
        assert "\x00" not in decoded.text


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=40), max_size=30),
    st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_split_lines_round_trips(lines: list[str], terminator: str) -> None:
    # every line terminated: exactly the lines come back
    assert split_lines("".join(line + terminator for line in lines)) == lines
    # no final terminator: the same, unless the last line is empty (then the text ends in a terminator)
    if lines and lines[-1] != "":
        assert split_lines(terminator.join(lines)) == lines


def _load(tmp_path: Path, files: dict[str, bytes]) -> duckdb.DuckDBPyConnection:
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    for name, data in files.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        (raw / name).write_bytes(data)
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    load_raw_dir(con, raw)
    return con


def test_sample_files_load_line_for_line(tmp_path: Path) -> None:
    files = {p.name: p.read_bytes() for p in SAMPLE_RAW.iterdir()}
    con = _load(tmp_path, files)
    for name, data in files.items():
        file_id = sha256_hex(data)
        stored = [
            t
            for (t,) in con.execute(
                "select text from raw.lines where file_id = ? order by line_no", [file_id]
            ).fetchall()
        ]
        assert stored == split_lines(data.decode("utf-8"))
        assert con.execute(
            "select path, status, line_count from raw.files where file_id = ?", [file_id]
        ).fetchall() == [(name, "loaded", len(stored))]


def test_bad_files_are_recorded_not_lost(tmp_path: Path) -> None:
    sample = next(SAMPLE_RAW.iterdir()).read_bytes()
    con = _load(
        tmp_path,
        {
            "bom_crlf.txt": b"\xef\xbb\xbf" + "Börsen schließen\r\n-\r\nGrève générale\r\n".encode(),
            "latin1.txt": "Sánchez gana\n".encode("latin-1"),
            "binary.bin": bytes(range(256)) * 4,
            "empty.txt": b"",
            "copy_a.txt": sample,
            'sub dir/copy "b" ü.txt': sample,
            "long.txt": b"x" * 1_000_000 + b"\nshort\n",
            ".hidden": b"skip me",
        },
    )
    rows = {
        path: (status, reason, count)
        for path, status, reason, count in con.execute(
            "select path, status, reason, line_count from raw.files"
        ).fetchall()
    }
    assert rows["bom_crlf.txt"] == ("loaded", None, 3)
    assert con.execute(
        "select text from raw.lines l join raw.files f using (file_id) where f.path = 'bom_crlf.txt' and line_no = 1"
    ).fetchall() == [("Börsen schließen",)]
    assert rows["latin1.txt"] == ("loaded", None, 1)
    assert con.execute(
        "select l.text, f.encoding from raw.lines l join raw.files f using (file_id) where f.path = 'latin1.txt'"
    ).fetchall() == [("Sánchez gana", "cp1252")]
    assert rows["binary.bin"][0] == "rejected" and "NUL byte" in rows["binary.bin"][1]
    assert rows["empty.txt"] == ("empty", "empty file", 0)
    # same content under two names: loaded once, both paths recorded
    copies = [p for p in rows if p in ("copy_a.txt", 'sub dir/copy "b" ü.txt')]
    assert len(copies) == 1
    assert con.execute(
        "select count(*) from raw.file_paths where file_id = ?", [sha256_hex(sample)]
    ).fetchall() == [(2,)]
    # the 1 MB line is kept whole
    assert con.execute("select max(length(text)) from raw.lines").fetchall() == [(1_000_000,)]
    assert ".hidden" not in rows
    # no rows for rejected or empty files; total lines add up
    assert (
        con.execute(
            "select (select sum(line_count) from raw.files), (select count(*) from raw.lines)"
        ).fetchall()[0]
        == (3 + 1 + len(split_lines(sample.decode())) + 2,) * 2  # bom_crlf, latin1, the sample, long
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=600), min_size=1, max_size=6))
def test_loader_takes_any_bytes_and_loses_no_line(files: list[bytes]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        con = _load(Path(tmp), {f"f{i}.txt": data for i, data in enumerate(files)})
        statuses = {s for (s,) in con.execute("select status from raw.files").fetchall()}
        assert statuses <= {"loaded", "empty", "rejected"}
        assert con.execute("select count(*) from raw.files").fetchall() == [(len(set(files)),)]
        assert con.execute("select count(*) from raw.file_paths").fetchall() == [(len(files),)]
        stored, expected = con.execute(
            "select (select count(*) from raw.lines), (select coalesce(sum(line_count), 0) from raw.files)"
        ).fetchall()[0]
        assert stored == expected
        for status, reason in con.execute("select status, reason from raw.files").fetchall():
            assert status != "rejected" or reason
        con.close()


def test_reload_is_idempotent(tmp_path: Path) -> None:
    files = {p.name: p.read_bytes() for p in SAMPLE_RAW.iterdir()}
    con = _load(tmp_path, files)
    counts = con.execute(
        "select (select count(*) from raw.files), (select count(*) from raw.lines)"
    ).fetchall()
    report = load_raw_dir(con, tmp_path / "raw")
    assert report.count("already_loaded") == len(files) and report.new_lines == 0
    assert (
        con.execute("select (select count(*) from raw.files), (select count(*) from raw.lines)").fetchall()
        == counts
    )


def test_a_failed_insert_leaves_no_half_loaded_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("-\nfirst\n-\nsecond\n", encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    import assets.raw_store as raw_store

    real_register = duckdb.DuckDBPyConnection.register

    def exploding_register(self, name, obj):  # fail between the files row and the lines rows
        raise RuntimeError("disk full")

    monkeypatch.setattr(raw_store.duckdb.DuckDBPyConnection, "register", exploding_register)
    with pytest.raises(RuntimeError, match="disk full"):
        load_raw_dir(con, raw)
    monkeypatch.setattr(raw_store.duckdb.DuckDBPyConnection, "register", real_register)
    assert con.execute("select count(*) from raw.files").fetchall() == [(0,)]
    assert con.execute("select count(*) from raw.lines").fetchall() == [(0,)]
    load_raw_dir(con, raw)  # the next run finishes the job
    assert con.execute("select count(*) from raw.lines").fetchall() == [(4,)]


def test_unchanged_paths_are_not_read_again_and_changed_ones_are(tmp_path: Path) -> None:
    """A rerun trusts size + modification time (ns): a file rewritten behind the loader's back with the
    same size and its old mtime restored is, on purpose, not read; a real edit (new mtime) is."""
    import os

    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.txt").write_text("Markets rally\n", encoding="utf-8")
    (raw / "b.txt").write_text("Floods in Italy\n", encoding="utf-8")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert [o.status for o in load_raw_dir(con, raw).outcomes] == ["loaded", "loaded"]
        before = (raw / "a.txt").stat()
        (raw / "a.txt").write_text("Markets slump\n", encoding="utf-8")  # same size
        os.utime(raw / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns))
        second = load_raw_dir(con, raw).outcomes
        assert [(o.path, o.status) for o in second] == [
            ("a.txt", "already_loaded"),
            ("b.txt", "already_loaded"),
        ]
        assert second[0].file_id == sha256_hex(b"Markets rally\n")  # the stat matched: not read
        os.utime(raw / "a.txt", ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000))  # edited later
        third = load_raw_dir(con, raw).outcomes
        assert [(o.path, o.status) for o in third] == [("a.txt", "loaded"), ("b.txt", "already_loaded")]
        texts = con.execute(
            "select l.text from raw.lines l join raw.file_paths p using (file_id) "
            "where p.path = 'a.txt' and p.superseded_at is null"
        ).fetchall()
        assert texts == [("Markets slump",)]
