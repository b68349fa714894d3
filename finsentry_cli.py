"""The ``finsentry`` console script: dispatch a subcommand to the package that owns it.

Modules are imported lazily so that serving commands never import training code (and start fast).
Each owning module exposes ``main(command: str, argv: list[str]) -> int``.
"""
from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "train-teacher": ("training.cli", "fine-tune a teacher sequence classifier"),
    "distill": ("training.cli", "distil a teacher into a small student"),
    "evaluate": ("training.cli", "evaluate a student (and teacher) on labelled files"),
    "quantize": ("training.cli", "write an int8 dynamically quantised copy of a student"),
    "worker": ("stream.cli", "run a stream worker (Kafka in, Redis and Kafka out)"),
    "replay": ("stream.cli", "publish a CSV/JSONL news file to Kafka"),
    "demo": ("stream.cli", "run the whole pipeline on embedded local services"),
    "silence": ("stream.cli", "add, list or expire alert silences"),
    "alerts": ("stream.cli", "follow alerts in the terminal"),
    "dashboard": ("stream.cli", "serve the dashboard and HTTP API"),
}


def usage() -> str:
    lines = ["usage: finsentry COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<14} {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run 'finsentry COMMAND --help' for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        return 0
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"finsentry: unknown command {command!r}; expected one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[command][0])
    return int(module.main(command, rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
