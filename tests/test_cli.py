from finsentry_cli import COMMANDS, main


def test_usage_lists_every_command(capsys):
    assert main([]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)


def test_unknown_command_names_the_choices(capsys):
    assert main(["trian"]) == 2
    err = capsys.readouterr().err
    assert "unknown command 'trian'" in err and "train-teacher" in err


def test_serving_commands_do_not_import_training():
    import subprocess
    import sys

    code = ("import sys, finsentry_cli, importlib; importlib.import_module('stream.cli'); import models; "
            "bad = [m for m in sys.modules if m == 'training' or m.startswith('training.')]; print(bad); sys.exit(bool(bad))")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
