"""Running the project's commands (manage.py, bench scripts) with their output logged."""

import json
import os
import subprocess
from pathlib import Path

from bench.config import PYTHON, ROOT


def run_logged(cmd: list[str], env: dict[str, str], log: Path) -> tuple[str, float]:
    """Run a command with its output in `log`; return its output and peak RSS (MB)."""
    with log.open("w") as out:
        proc = subprocess.Popen(  # noqa: S603 -- our own fixed commands
            cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    text = log.read_text()
    if proc.returncode:
        tail = "\n".join(text.splitlines()[-20:])
        raise RuntimeError(f"{' '.join(cmd[1:3])} failed ({proc.returncode}):\n{tail}")
    return text, usage.ru_maxrss / 1024


def manage(*args: str, env: dict[str, str], log: Path) -> tuple[str, float]:
    return run_logged([str(PYTHON), "manage.py", *args], env, log)


def last_json(text: str) -> dict:
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"no JSON in output:\n{text[-2000:]}")
