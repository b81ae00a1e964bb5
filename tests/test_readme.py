"""README.md's shell commands run as written, in a copy of the work tree on a fresh ARGOSY_HOME.

Each line of a ```bash, ```sh, ```shell or ```console block (in a console block, each line
after ``$ ``) is a command; lines ending in ``\\`` continue, and ``a && b`` is two commands.
Each command matches a rule of `SKIP`, which says why it is not run, or one of `RUN`; a command
that matches neither fails the test, so a new command in the README is run or skipped on
purpose, and so does a fenced block of a language not known here.

The commands run in README order, as in one reader's shell: each in bash, in the directory and
environment the one before left (with ``set -a``, so a plain ``NAME=value`` carries over too),
with a timeout. ``argosy server`` is a terminal of its own: it is started in the background, on
a free port that the commands after it reach in place of the README's, and stopped at the end.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import pytest

REPO = Path(__file__).resolve().parents[1]
SHELL_FENCES = {"bash", "sh", "shell", "console"}
OTHER_FENCES = {"", "python", "yaml", "text"}
"""Fences whose lines are not commands (an untitled fence is a synopsis or a layout)."""
COMMAND_TIMEOUT = 120
README_PORT = 8000
"""The port of ``argosy server`` unless the README gives ``--port``."""


@dataclass(frozen=True)
class Rule:
    pattern: str
    reason: str

    def matches(self, command: str) -> bool:
        return re.search(self.pattern, command) is not None


SKIP = (
    Rule(r"^make (test|test-images|test-cluster)$", "runs a test suite; this test is in make test"),
    Rule(
        r"^make (cluster-up|cluster-down|kind-up)$|^\. \.tools/cluster/",
        "starts, stops or uses the real Kubernetes of make test-cluster",
    ),
    Rule(r"^(kubectl|helm|argo|kind) ", "talks to a Kubernetes cluster"),
    Rule(r"^argosy (submit|schedule) ", "talks to Argo Workflows on a cluster (tests/cluster)"),
    Rule(r"^argosy build\b", "builds container images (make test-images)"),
    Rule(r"^make manifests$", "rewrites manifests/ with helm (tests/backends/argo/test_golden.py)"),
    Rule(r"^make bench$", "prints benchmark figures for minutes; nothing to pass or fail"),
    Rule(
        r"^python3? -m venv |^\. \.venv/bin/activate$|(^| -m )pip install ",
        "sets up the virtualenv this test runs in (pip needs the package index)",
    ),
    Rule(
        r"postgresql(\+\w+)?://",
        "needs the reader's Postgres server (test_server_command.py serves a real one)",
    ),
    Rule(r"pipelines/nightly\.py", "the reader's own file: the `nightly` snippet above it"),
)
SERVE = Rule(r"^argosy server\b", "the metadata service, started in the background")
EXAMPLE = Rule(r"^make example$", "its Makefile recipe, each command under these rules")
RUN = (
    Rule(
        r"^argosy (run|runs|show|status|logs|lineage|resume|compile|tag|token|gc)",
        "the local backend and the embedded database",
    ),
    SERVE,
    Rule(r"^curl .*(127\.0\.0\.1|localhost|\$ARGOSY_METADATA_URL)", "queries that service"),
    Rule(r"^export \w+=", "sets the environment of the commands after it"),
    EXAMPLE,
)


def shell_commands(markdown: str) -> list[str]:
    """The commands of the shell blocks of ``markdown``, in order."""
    commands: list[str] = []
    language: str | None = None  # of the fenced block the line is in
    pending = ""  # the lines so far of a command continued with a backslash
    for line in markdown.splitlines():
        text = line.strip()
        if language is None:
            opening = re.match(r"^```(\S*)$", text)
            if opening:
                language = opening.group(1)
                if language not in SHELL_FENCES | OTHER_FENCES:
                    pytest.fail(f"README.md has a ```{language} block: add it to this test")
            continue
        if text == "```":
            language = None
        elif language == "console" and not text.startswith("$ "):
            continue  # output
        elif language in SHELL_FENCES:
            text = text.removeprefix("$ ") if language == "console" else text
            if text.endswith("\\"):
                pending += text[:-1].rstrip() + " "
            else:
                commands += split_chain(pending + text)
                pending = ""
    return commands


def split_chain(command: str) -> list[str]:
    """``command`` cut at each ``&&``, without its comment (both outside quotes and ``$(…)``)."""
    parts, start, quote, depth, at = [], 0, "", 0, 0
    while at < len(command):
        char = command[at]
        if quote:
            if char == "\\" and quote == '"':
                at += 1  # an escaped character
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "\\":
            at += 1
        elif command.startswith("$(", at):
            depth, at = depth + 1, at + 1
        elif char == ")" and depth:
            depth -= 1
        elif char == "#" and not depth and (at == 0 or command[at - 1].isspace()):
            break
        elif command.startswith("&&", at) and not depth:
            parts.append(command[start:at])
            start, at = at + 2, at + 1
        at += 1
    parts.append(command[start:at])
    return [part.strip() for part in parts if part.strip()]


def recipe(target: str) -> list[str]:
    """The commands of ``target`` in the Makefile (``$(PYTHON)`` is ``python3``)."""
    lines = (REPO / "Makefile").read_text().splitlines()
    start = lines.index(f"{target}:") + 1
    body = []
    for line in lines[start:]:
        if not line.startswith("\t"):
            break
        body.append(line.strip().removesuffix("\\").replace("$(PYTHON)", "python3"))
    return split_chain(" ".join(body))


def rule_of(command: str) -> tuple[str, Rule]:
    """("skip" or "run", the rule); the test fails on a command no rule covers."""
    for verdict, rules in (("skip", SKIP), ("run", RUN)):
        for rule in rules:
            if rule.matches(command):
                return verdict, rule
    pytest.fail(f"README.md runs {command!r}: add a rule to tests/test_readme.py to run or skip it")


def work_tree_copy(into: Path) -> Path:
    """The files git sees in the work tree (committed or not, less the ignored), copied."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


class ReaderShell:
    """One reader's shell: commands run one after another, keeping the directory and the
    environment each leaves; servers started in it are stopped by `close`."""

    def __init__(self, cwd: Path, env: dict[str, str], scratch: Path) -> None:
        self.cwd, self.env, self.scratch = cwd, env, scratch
        self.servers: list[tuple[subprocess.Popen, IO[str]]] = []
        self.port_map: dict[int, int] = {}

    def localize(self, command: str) -> str:
        """``command`` with the README's server address replaced by the one serving here."""
        for written, served in self.port_map.items():
            command = re.sub(rf"\b(127\.0\.0\.1|localhost):{written}\b", rf"\1:{served}", command)
        return command

    def run(self, command: str) -> None:
        env_file, cwd_file = self.scratch / "env", self.scratch / "cwd"
        script = (
            f"set -a\n{self.localize(command)}\nstatus=$?\n"
            f"env -0 > {shlex.quote(str(env_file))}; pwd > {shlex.quote(str(cwd_file))}\n"
            "exit $status\n"
        )
        code, output = self._run(script)
        if code != 0:
            pytest.fail(f"README.md command {command!r} exited {code}:\n{output[-3000:]}")
        pairs = (item.partition("=") for item in env_file.read_text().split("\0") if item)
        self.env = {name: value for name, _, value in pairs}
        self.cwd = Path(cwd_file.read_text().strip())

    def _run(self, script: str) -> tuple[int, str]:
        """Exit code and output of ``script``, killed with all it started after the timeout."""
        with (self.scratch / "output").open("w+") as output:
            shell = subprocess.Popen(
                ["bash", "-c", script],
                cwd=self.cwd,
                env=self.env,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
            try:
                code = shell.wait(COMMAND_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(shell.pid, signal.SIGKILL)
                code = shell.wait()
                output.write(f"\n(killed after {COMMAND_TIMEOUT} s)")
            output.seek(0)
            return code, output.read()

    def serve(self, command: str) -> None:
        """Start ``argosy server …`` as another terminal would, on a free port."""
        written = re.search(r"--port[= ](\d+)", command)
        port = _free_port()
        self.port_map[int(written.group(1)) if written else README_PORT] = port
        argv = [*shlex.split(re.sub(r"--port[= ]\d+", "", command)), "--port", str(port)]
        log = (self.scratch / f"server-{port}.log").open("w")
        server = subprocess.Popen(
            argv, cwd=self.cwd, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        self.servers.append((server, log))
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
                return
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"{command!r} did not serve:\n{Path(log.name).read_text()}")
                time.sleep(0.2)

    def close(self) -> None:
        for server, log in self.servers:
            server.terminate()
            server.wait(20)
            log.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def reader(tmp_path: Path) -> Iterator[ReaderShell]:
    """A shell in a copy of the work tree, with a fresh ARGOSY_HOME and HOME, and the ``argosy``
    of the Python running the tests first on PATH. Its ``~/.curlrc`` makes curl fail on an
    HTTP error, which it otherwise prints and exits 0 on."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARGOSY_")}
    env |= {
        "ARGOSY_HOME": str(tmp_path / "argosy-home"),
        "HOME": str(tmp_path / "home"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    }
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / ".curlrc").write_text("fail-with-body\nsilent\nshow-error\n")
    (tmp_path / "scratch").mkdir()
    shell = ReaderShell(work_tree_copy(tmp_path / "repo"), env, tmp_path / "scratch")
    try:
        yield shell
    finally:
        shell.close()


@pytest.mark.slow
def test_readme_commands_run_as_written(reader: ReaderShell) -> None:
    ran: list[str] = []
    commands = shell_commands((REPO / "README.md").read_text())
    while commands:
        command = commands.pop(0)
        verdict, rule = rule_of(command)
        print(f"{verdict}: {command}  ({rule.reason})")
        if verdict == "skip":
            continue
        if rule is EXAMPLE:
            commands[:0] = recipe("example")
        elif rule is SERVE:
            reader.serve(command)
        else:
            reader.run(command)
        ran.append(command)
    assert any(command.startswith("argosy run ") for command in ran), ran
    assert any(command.startswith("argosy server") for command in ran), ran


def test_commands_are_read_from_shell_blocks_only() -> None:
    markdown = "\n".join(
        [
            "```bash",
            "argosy run a.py && argosy show x   # a comment && not a command",
            "# a comment line",
            'curl -H "A: $(echo b && echo c) \\"#" \\',
            "  http://localhost:8000/x",
            "```",
            "```python",
            "print('not a command')",
            "```",
            "  ```console",
            "  $ argosy runs",
            "  a line of output",
            "  ```",
        ]
    )
    assert shell_commands(markdown) == [
        "argosy run a.py",
        "argosy show x",
        'curl -H "A: $(echo b && echo c) \\"#" http://localhost:8000/x',
        "argosy runs",
    ]
    with pytest.raises(pytest.fail.Exception, match="```zsh block"):
        shell_commands("```zsh\nls\n```")
    with pytest.raises(pytest.fail.Exception, match="add a rule"):
        rule_of("rm -rf build")
    assert rule_of("kubectl get pods")[0] == "skip"
    example = recipe("example")
    assert example[-1] == "argosy run pipelines/kmeans_sweep.py"
    assert [rule_of(command)[0] for command in example] == ["skip", "run"]


def test_reader_shell_keeps_state_and_stops_what_overruns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shell = ReaderShell(tmp_path, dict(os.environ), tmp_path)
    shell.run("mkdir work && cd work && GREETING=hello")
    shell.run('test "$GREETING" = hello && test "$PWD" = ' + shlex.quote(str(tmp_path / "work")))
    monkeypatch.setattr(sys.modules[__name__], "COMMAND_TIMEOUT", 1)
    started = time.monotonic()
    with pytest.raises(pytest.fail.Exception, match="killed after 1 s"):
        shell.run("sleep 60 & sleep 60")
    assert time.monotonic() - started < 30
