"""Run the moto AWS emulator on a free loopback port for the end-to-end tests.

    with MotoServer() as moto:
        moto.reset()
        session = moto.boto3_session("us-east-1")
        ...
        subprocess.run([audit, "--endpoint-url", moto.endpoint, ...])

The server listens on 127.0.0.1 only, runs in its own process group (so a Ctrl-C in the
terminal reaches the test process, not moto, and we can stop moto's whole group), logs to a
file instead of the console, and is always stopped: on normal exit, on an exception, on
SIGTERM/SIGINT of the test process and, as a last resort, at interpreter exit.

Stdlib only, so it also runs under a python without boto3; `boto3_session()` imports boto3
lazily.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

DEFAULT_VENV = Path(os.environ.get("AWSAUDIT_VENV", Path.home() / ".cache/awsaudit/venv-moto"))

# Environment the emulator must run with (see shared/reference/MOTO.md):
#  - AWS managed policies loaded so attach_role_policy(arn:aws:iam::aws:policy/...) works;
#  - no default AMIs: faster start, and nothing we did not seed shows up in EC2.
MOTO_ENV = {
    "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
    "MOTO_EC2_LOAD_DEFAULT_AMIS": "false",
}

DUMMY_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Loopback only: never route 127.0.0.1 through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))

# Every live server, so the signal handlers and atexit hook can stop them.
_LIVE: set[MotoServer] = set()
_HANDLERS_INSTALLED = False


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free on `host` a moment ago (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def closed_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on (for "unreachable endpoint" tests)."""
    return free_port(host)


def _stop_all() -> None:
    for server in list(_LIVE):
        server.stop()


def _on_signal(signum, frame):  # noqa: ARG001
    _stop_all()
    # Restore the default action and re-raise so the process ends the way it was asked to
    # (SIGINT -> KeyboardInterrupt through the default handler, SIGTERM -> exit 143).
    if signum == signal.SIGINT:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        raise KeyboardInterrupt
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    global _HANDLERS_INSTALLED
    if _HANDLERS_INSTALLED:
        return
    _HANDLERS_INSTALLED = True
    atexit.register(_stop_all)
    # Signal handlers can only be set from the main thread.
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, _on_signal)
    except ValueError:
        pass


class MotoError(RuntimeError):
    pass


class MotoServer:
    """One moto_server process on 127.0.0.1:<free port>."""

    def __init__(
        self,
        venv: Path | str | None = None,
        port: int | None = None,
        log_path: Path | str | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.venv = Path(venv) if venv else DEFAULT_VENV
        self.host = "127.0.0.1"
        self.port = port
        self._requested_port = port
        self.start_timeout = start_timeout
        if log_path is None:
            fd, name = tempfile.mkstemp(prefix="moto-server-", suffix=".log")
            os.close(fd)
            log_path = name
        self.log_path = Path(log_path)
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle -----------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _binary(self) -> list[str]:
        # moto's own server, with the EKS operations it lacks added (moto_plus.py).
        py = self.venv / "bin" / "python"
        if py.exists():
            return [str(py), str(Path(__file__).resolve().parent / "moto_plus.py")]
        raise MotoError(
            f"no moto in {self.venv}: run tests/e2e/setup_venv.sh (or set AWSAUDIT_VENV)"
        )

    def start(self) -> MotoServer:
        if self.proc is not None:
            return self
        _install_handlers()
        cmd = self._binary()
        last_error = None
        # The free port can be taken between picking and binding; try a few.
        for _ in range(1 if self._requested_port else 5):
            port = self._requested_port or free_port(self.host)
            env = dict(os.environ)
            env.update(MOTO_ENV)
            # Moto must never talk to anything: no proxies, no real credentials.
            for k in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "HTTP_PROXY", "HTTPS_PROXY",
                      "http_proxy", "https_proxy"):
                env.pop(k, None)
            env.setdefault("AWS_ACCESS_KEY_ID", "testing")
            env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
            self._log = open(self.log_path, "ab")
            self._log.write(f"\n=== {' '.join(cmd)} -H {self.host} -p {port}\n".encode())
            self._log.flush()
            self.proc = subprocess.Popen(
                cmd + ["-H", self.host, "-p", str(port)],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # own session => own process group
            )
            self.port = port
            _LIVE.add(self)
            try:
                self._wait_ready()
                return self
            except MotoError as e:
                last_error = e
                self.stop()
        raise MotoError(f"{last_error}; log: {self.log_path}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        delay = 0.05
        while time.monotonic() < deadline:
            if self.proc is None or self.proc.poll() is not None:
                code = None if self.proc is None else self.proc.returncode
                raise MotoError(f"moto_server exited early (code {code})")
            try:
                with _OPENER.open(self.endpoint + "/moto-api/", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
                pass
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        raise MotoError(f"moto_server did not answer on {self.endpoint} within {self.start_timeout}s")

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        _LIVE.discard(self)
        if proc is not None and proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, timeout)):
                try:
                    os.killpg(proc.pid, sig)
                except (ProcessLookupError, PermissionError):
                    try:
                        proc.send_signal(sig)
                    except ProcessLookupError:
                        pass
                try:
                    proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        elif proc is not None:
            # Already exited; still reap any children left in its group.
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            try:
                self._log.close()
            except OSError:
                pass
            self._log = None

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers -------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every resource in every region and account (POST /moto-api/reset)."""
        req = urllib.request.Request(self.endpoint + "/moto-api/reset", data=b"", method="POST")
        with _OPENER.open(req, timeout=30) as r:
            if r.status != 200:
                raise MotoError(f"reset failed: HTTP {r.status}")

    def seed_ids(self, a: int = 42) -> None:
        """Seed moto's random source (POST /moto-api/seed?a=N) so the ids it hands out
        (vpc-…, subnet-…, nodegroup uuids, target-group hashes) are the same on every run
        that creates the same resources in the same order: re-recorded mocks then keep
        their ids and snapshot diffs show only real changes."""
        req = urllib.request.Request(f"{self.endpoint}/moto-api/seed?a={int(a)}", data=b"", method="POST")
        with _OPENER.open(req, timeout=30) as r:
            if r.status != 200:
                raise MotoError(f"seed failed: HTTP {r.status}")

    def boto3_session(self, region: str = "us-east-1"):
        """A boto3 session whose clients all point at this server, with dummy credentials."""
        return EndpointSession(self.endpoint, region)

    def log_tail(self, n: int = 40) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


class EndpointSession:
    """Thin wrapper over boto3.Session: every client gets endpoint_url and no retries, so a
    moto crash fails fast instead of repeating a side effect (MOTO.md §2)."""

    def __init__(self, endpoint: str, region: str, credentials: dict | None = None) -> None:
        import boto3
        from botocore.config import Config

        self.endpoint = endpoint
        self.region = region
        # Credentials from sts.assume_role put every call in that role's account (moto
        # maps temporary access keys to the account they were issued for).
        self._credentials = credentials or DUMMY_CREDENTIALS
        self._session = boto3.Session(region_name=region, **self._credentials)
        # proxies={}: never send loopback traffic to a proxy from the environment.
        self._config = Config(retries={"max_attempts": 1, "mode": "standard"}, proxies={})

    def client(self, service: str, region: str | None = None):
        return self._session.client(
            service,
            region_name=region or self.region,
            endpoint_url=self.endpoint,
            config=self._config,
        )

    def in_region(self, region: str) -> EndpointSession:
        return EndpointSession(self.endpoint, region, self._credentials)

    def in_account(self, account: str, role: str = "OrganizationAccountAccessRole") -> EndpointSession:
        """A session whose calls land in `account` (through sts:AssumeRole, as AWS does)."""
        creds = self.client("sts").assume_role(
            RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="seed")["Credentials"]
        return EndpointSession(self.endpoint, self.region, {
            "aws_access_key_id": creds["AccessKeyId"],
            "aws_secret_access_key": creds["SecretAccessKey"],
            "aws_session_token": creds["SessionToken"],
        })


if __name__ == "__main__":
    # Manual use: python moto_server.py  -> starts moto, prints the endpoint, waits for Ctrl-C.
    with MotoServer() as m:
        print(m.endpoint, "log:", m.log_path, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    sys.exit(0)
