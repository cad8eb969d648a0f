"""`xinzhan crisis-scan` through its registered parser, with stdin and stdout patched."""
import argparse
import io
import json

from knowledge.crisis import cli


def _run(monkeypatch, capsys, stdin: str, *argv: str) -> tuple[int, list[dict], str]:
    parser = argparse.ArgumentParser(prog="xinzhan")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["crisis-scan", *argv])
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, [json.loads(line) for line in out.splitlines()], err


def test_each_input_line_gives_one_output_line(monkeypatch, capsys):
    stdin = '{"id": 1, "text": "我不想活了"}\n{"id": "b", "text": "紫砂壶泡茶"}\n'
    code, rows, err = _run(monkeypatch, capsys, stdin)
    assert code == 0 and err == ""
    assert [(r["id"], r["crisis"]) for r in rows] == [(1, True), ("b", False)]
    assert rows[0]["level"] >= 2 and rows[1]["level"] == 0  # 不想活了: passive at least (the model reads 3)
    assert "不想活" in rows[0]["matched"] and rows[0]["reason"]


def test_bad_lines_are_reported_by_number_skipped_and_fail_the_run(monkeypatch, capsys):
    stdin = 'not json\n{"id": 2, "text": "他在打我"}\n{"id": 3}\n'
    code, rows, err = _run(monkeypatch, capsys, stdin)
    assert code == 1
    assert [r["id"] for r in rows] == [2]
    assert "line 1: not valid JSON" in err and "line 3:" in err


def test_context_level_option_reads_messages_in_context(monkeypatch, capsys):
    _, rows, _ = _run(monkeypatch, capsys, '{"id": 1, "text": "药都准备好了"}\n', "--context-level", "2")
    assert rows[0]["level"] == 4
