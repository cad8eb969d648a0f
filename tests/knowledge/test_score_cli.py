import argparse
import json

import pytest

from knowledge import scales_cli


def run_cli(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="xinzhan")
    scales_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_score_prints_the_result_as_json(capsys):
    assert run_cli("score", "--scale", "PHQ-9", "--answers", "3,3,2,2,1,1,0,0,1") == 0
    printed = json.loads(capsys.readouterr().out)
    assert {k: printed[k] for k in ("scale", "total", "band", "flags")} == {
        "scale": "PHQ-9", "total": 13, "band": "moderate", "flags": ["item9_positive", "ge10"]}


def test_scale_id_matches_in_any_case_and_without_dash(capsys):
    assert run_cli("score", "--scale", "who5", "--answers", "1,1,1,1,1") == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["scale"], printed["percent"], printed["band"]) == ("WHO-5", 20, "likely depression")


def test_wrong_answer_count_is_one_clear_line_and_exit_2(capsys):
    assert run_cli("score", "--scale", "gad7", "--answers", "1,2") == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "error: GAD-7 needs 7 answers, got 2\n"


def test_non_numeric_answers_exit_2(capsys):
    assert run_cli("score", "--scale", "PHQ-2", "--answers", "1,x") == 2
    assert "whole numbers separated by commas" in capsys.readouterr().err


def test_unknown_scale_exit_2(capsys):
    assert run_cli("score", "--scale", "HAMD", "--answers", "1") == 2
    assert capsys.readouterr().err.startswith("error: unknown scale 'HAMD'")


def test_scale_is_required():
    with pytest.raises(SystemExit):
        run_cli("score", "--answers", "1,2")
