"""Every option of every command explains itself; mistyped Beam flags are refused."""

import argparse

from pipeline.cli import build_parser, main
from pipeline.options import unknown_beam_flags


def parsers(parser):
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                yield from parsers(child)


def test_every_option_of_every_command_has_help():
    missing = [
        f"{prog} {'/'.join(action.option_strings)}"
        for prog, parser in parsers(build_parser())
        for action in parser._actions
        if action.option_strings and not action.help
    ]
    assert not missing, f"options without help: {missing}"


def test_unknown_beam_flags_are_found():
    assert unknown_beam_flags(["--runer=DataflowRunner", "--direct_num_workers=2"]) == ["--runer"]
    assert unknown_beam_flags(["--runner=FnApiRunner", "--direct_num_workers=2"]) == []


def test_a_mistyped_runner_flag_stops_the_run_before_it_starts(tmp_path, run_key, capsys):
    out = tmp_path / "out"
    argv = ["run", "--input", "x.csv", "--format", "csv", "--output", str(out)]
    assert main([*argv, "--runer=DataflowRunner"]) == 2
    assert "unknown option(s) --runer" in capsys.readouterr().err
    assert not out.exists()


def test_unknown_flags_pass_when_allowed(tmp_path, run_key, capsys):
    argv = ["run", "--input", str(tmp_path / "missing.csv"), "--format", "csv"]
    argv += ["--output", str(tmp_path / "out"), "--allow-unknown-beam-flags", "--runer=x"]
    assert main(argv) == 2  # it gets past the flag check, to the missing input
    assert "unknown option" not in capsys.readouterr().err


def test_threshold_options_are_checked(tmp_path, run_key, capsys):
    argv = ["run", "--input", "x.csv", "--format", "csv", "--output", str(tmp_path / "o")]
    assert main([*argv, "--max-quarantine-rate", "5"]) == 2
    assert "--max-quarantine-rate must be a share between 0 and 1" in capsys.readouterr().err
    assert main([*argv, "--min-records", "-1"]) == 2
    assert "--min-records must be 0 or more" in capsys.readouterr().err
