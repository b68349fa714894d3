"""deploy/Dockerfile installs what `make test` installs, runs as non-root and bakes in the model."""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"


def logical_lines(text: str) -> list[str]:
    """Lines with backslash continuations joined and comments dropped."""
    return [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def pip_installs(lines: list[str]) -> list[list[str]]:
    """The arguments of every ``pip install`` command, in order (``&&``-chained commands split)."""
    installs = []
    for line in lines:
        for command in re.split(r"&&|;", line):
            if "pip" not in command:
                continue
            words = shlex.split(command.replace("$(BIN)/", "").replace("$(VENV)/bin/", ""))
            if "pip" in words and "install" in words[words.index("pip"):]:
                installs.append(words[words.index("install", words.index("pip")) + 1:])
    return installs


def torch_pin(args: list[str]) -> str | None:
    return next((a for a in args if a.startswith("torch==")), None)


def project_install(args: list[str]) -> bool:
    """Installs the project at the build root under constraints.txt."""
    targets = [a for a in args if not a.startswith("-") and "==" not in a]
    has_constraints = any(args[i:i + 2] == ["-c", "constraints.txt"] for i in range(len(args)))
    return has_constraints and any(re.fullmatch(r"\.(\[[\w,]+\])?", t) for t in targets)


@pytest.fixture(scope="module")
def docker_lines() -> list[str]:
    return logical_lines(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def make_installs() -> list[list[str]]:
    return pip_installs(logical_lines((ROOT / "Makefile").read_text()))


@pytest.fixture(scope="module")
def docker_installs(docker_lines) -> list[list[str]]:
    return pip_installs([line for line in docker_lines if line.startswith("RUN ")])


def test_same_install_as_make_test(make_installs, docker_installs):
    for source, installs in (("Makefile", make_installs), ("Dockerfile", docker_installs)):
        torch_steps = [i for i, args in enumerate(installs) if torch_pin(args)]
        project_steps = [i for i, args in enumerate(installs) if project_install(args)]
        assert torch_steps and project_steps, f"{source}: needs a pinned torch install and -c constraints.txt ."
        assert torch_steps[0] < project_steps[0], f"{source}: torch must come first"
    make_torch = {torch_pin(a) for a in make_installs} - {None}
    docker_torch = {torch_pin(a) for a in docker_installs} - {None}
    assert make_torch == docker_torch and len(make_torch) == 1, (make_torch, docker_torch)
    constraints = (ROOT / "constraints.txt").read_text().split()
    assert make_torch <= set(constraints), "constraints.txt pins the same torch"


def test_variants_share_one_runtime_stage(docker_lines):
    stages = dict(re.findall(r"^FROM\s+(\S+)\s+AS\s+(\S+)$", "\n".join(docker_lines), re.MULTILINE))
    by_name = {name: image for image, name in stages.items()}
    assert by_name["base-cpu"] == "python:3.11-slim"
    assert re.fullmatch(r"nvidia/cuda:[\d.]+-(cudnn-)?runtime-ubuntu[\d.]+", by_name["base-cuda"])
    assert by_name["runtime"] == "base-${VARIANT}"
    assert "ARG VARIANT=cpu" in docker_lines
    assert any("python3.11 -m venv" in line for line in docker_lines), "the CUDA variant runs Python 3.11 too"


def test_runs_finsentry_as_non_root_with_the_default_model(docker_lines):
    users = [line.split()[1] for line in docker_lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert docker_lines[[l.split()[0] for l in docker_lines].index("ENTRYPOINT")] == 'ENTRYPOINT ["finsentry"]'
    assert any(re.match(r"COPY\s+models/default\s", line) for line in docker_lines)
    assert any("FINSENTRY_MODEL_DIR=/app/models/default" in line for line in docker_lines)


def test_image_env_names_are_settings(docker_lines, settings_env_names):
    named = {m for line in docker_lines if line.startswith("ENV ") for m in re.findall(r"\b(FINSENTRY_\w+)=", line)}
    assert named and named <= settings_env_names


def test_build_context_keeps_what_the_install_needs():
    lines = (ROOT / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    rules = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    assert rules[0] == "*", "start from an empty context and add back what the image needs"
    kept = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert {"pyproject.toml", "constraints.txt", "finsentry_cli.py", "stream", "models", "training"} <= kept
