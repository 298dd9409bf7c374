"""`.ci/run` installs PostgreSQL and Redis when they are missing, then starts them, then runs
`make test` against them.

A test cannot uninstall PostgreSQL from the machine, so `.ci/run` runs here with a PATH of its
own: the shell tools it uses, and stand-ins for apt-get, the PostgreSQL and Redis commands and
make that record how they were called. Installing (the apt-get stand-in) puts the PostgreSQL
and Redis stand-ins on that PATH and writes a pg_hba.conf as the Debian package does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ("bash", "ls", "head", "seq", "sleep", "cat", "rm", "dirname")
# The stand-ins use real tools by their full names: their PATH is the sandbox's.
TOUCH, CHMOD, MKDIR = (shutil.which(tool) for tool in ("touch", "chmod", "mkdir"))
PACKAGE_HBA = "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n"

SERVER_STUBS = {
    "pg_isready": '[ -e "$STATE/postgres-running" ]',
    "pg_ctlcluster": f'echo "pg_ctlcluster $*" >>"$LOG"; [ "$4" = start ] && {TOUCH} "$STATE/postgres-running"; true',
    "redis-cli": '[ -e "$STATE/redis-running" ]',
    "redis-server": f'echo "redis-server $*" >>"$LOG"; {TOUCH} "$STATE/redis-running"',
}


def script(path: Path, body: str) -> None:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


class Sandbox:
    def __init__(
        self, tmp_path: Path, *, uid: int = 0, stale_package_lists: bool = False, package_starts_it: bool = False
    ) -> None:
        self.bin = tmp_path / "bin"
        self.state = tmp_path / "state"
        self.etc = tmp_path / "etc-postgresql"
        self.log = tmp_path / "calls.log"
        for folder in (self.bin, self.state, self.etc):
            folder.mkdir()
        self.log.write_text("")
        for tool in TOOLS:
            (self.bin / tool).symlink_to(shutil.which(tool))
        script(self.bin / "id", f"echo {uid}")
        script(self.bin / "mkdir", 'echo "mkdir $*" >>"$LOG"')
        script(self.bin / "make", 'echo "make $* DATABASE_URL=$DATABASE_URL REDIS_URL=$REDIS_URL" >>"$LOG"')
        (tmp_path / "stubs").mkdir()
        for name, body in SERVER_STUBS.items():
            script(tmp_path / "stubs" / name, body)
        lines = ['echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >>"$LOG"']
        if stale_package_lists:
            lines += [
                f'[ "$1" = update ] && {TOUCH} "$STATE/updated"',
                '[ "$1" = install ] && [ ! -e "$STATE/updated" ] && exit 100',
            ]
        lines += [
            '[ "$1" = install ] || exit 0',
            f'for stub in "$STUBS"/*; do {shutil.which("cp")} "$stub" "$BIN/"; done',
            f'{MKDIR} -p "$ETC/15/main"',
            *([f'{TOUCH} "$STATE/postgres-running"'] if package_starts_it else []),
            f"printf '{PACKAGE_HBA.replace(chr(10), chr(92) + 'n')}' >\"$ETC/15/main/pg_hba.conf\"",
        ]
        script(self.bin / "apt-get", "\n".join(lines))
        self.stubs = tmp_path / "stubs"

    def installed_and_running(self) -> None:
        for stub in self.stubs.iterdir():
            shutil.copy(stub, self.bin / stub.name)
        (self.etc / "15" / "main").mkdir(parents=True)
        (self.etc / "15" / "main" / "pg_hba.conf").write_text(PACKAGE_HBA)
        (self.state / "postgres-running").touch()
        (self.state / "redis-running").touch()

    def run(self) -> subprocess.CompletedProcess:
        environment = {
            "PATH": str(self.bin),
            "HOME": os.environ.get("HOME", "/root"),
            "LOG": str(self.log),
            "STATE": str(self.state),
            "BIN": str(self.bin),
            "ETC": str(self.etc),
            "CI_POSTGRES_ETC": str(self.etc),
            "STUBS": str(self.stubs),
        }
        return subprocess.run(
            ["/bin/bash", str(ROOT / ".ci" / "run")], env=environment, capture_output=True, text=True, timeout=120
        )

    def calls(self) -> list[str]:
        return self.log.read_text().splitlines()

    def hba(self) -> str:
        return (self.etc / "15" / "main" / "pg_hba.conf").read_text()


APT_INSTALL = "apt-get install -y -q --no-install-recommends postgresql redis-server DEBIAN_FRONTEND=noninteractive"
MAKE_TEST = "make test DATABASE_URL=postgres://postgres@127.0.0.1:5432/webmail REDIS_URL=redis://127.0.0.1:6379/15"


def test_on_a_bare_machine_it_installs_then_starts_postgresql_and_redis(tmp_path):
    sandbox = Sandbox(tmp_path)
    result = sandbox.run()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "command not found" not in result.stderr
    calls = sandbox.calls()
    assert calls[0] == APT_INSTALL
    assert not any(call.startswith("apt-get update") for call in calls), "the lists on the machine had them"
    assert "pg_ctlcluster --skip-systemctl-redirect 15 main start" in calls
    assert any(call.startswith("redis-server --daemonize yes --bind 127.0.0.1 ") for call in calls)
    assert calls[-1] == MAKE_TEST
    # The cluster it installed lets postgres in from 127.0.0.1, before the package's rules.
    assert sandbox.hba() == "host all postgres 127.0.0.1/32 trust\n" + PACKAGE_HBA


def test_stale_package_lists_are_updated_and_the_install_tried_again(tmp_path):
    sandbox = Sandbox(tmp_path, stale_package_lists=True)
    result = sandbox.run()
    assert result.returncode == 0, result.stdout + result.stderr
    apt = [call for call in sandbox.calls() if call.startswith("apt-get")]
    assert apt == [APT_INSTALL, "apt-get update -q DEBIAN_FRONTEND=noninteractive", APT_INSTALL]
    assert sandbox.calls()[-1] == MAKE_TEST


def test_without_root_it_says_what_to_install_and_stops(tmp_path):
    sandbox = Sandbox(tmp_path, uid=1000)
    result = sandbox.run()
    assert result.returncode == 1
    assert "apt-get install postgresql redis-server" in result.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize("running", [True, False])
def test_installed_servers_are_not_installed_again_and_a_running_one_is_left_alone(tmp_path, running):
    sandbox = Sandbox(tmp_path)
    sandbox.installed_and_running()
    if not running:
        (sandbox.state / "postgres-running").unlink()
    result = sandbox.run()
    assert result.returncode == 0, result.stdout + result.stderr
    calls = sandbox.calls()
    assert not any(call.startswith("apt-get") for call in calls)
    assert not any(call.startswith("redis-server") for call in calls)
    started = "pg_ctlcluster --skip-systemctl-redirect 15 main start"
    assert (started in calls) is not running
    assert sandbox.hba() == PACKAGE_HBA, "a cluster it did not install keeps its rules"
    assert calls[-1] == MAKE_TEST


def test_a_cluster_the_package_started_reloads_its_rules(tmp_path):
    sandbox = Sandbox(tmp_path, package_starts_it=True)
    result = sandbox.run()
    assert result.returncode == 0, result.stdout + result.stderr
    pg = [call for call in sandbox.calls() if call.startswith("pg_ctlcluster")]
    assert pg == ["pg_ctlcluster --skip-systemctl-redirect 15 main reload"]
    assert sandbox.hba().startswith("host all postgres 127.0.0.1/32 trust\n")
