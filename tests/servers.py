"""The servers the tests run against: the PostgreSQL every database test gets (TEST_DATABASE_URL when
set, else the embedded PostgreSQL 16 of pgserver, started once per session) and a PostgreSQL that really
checks passwords."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT, SENTINEL_PASSWORD
from mandala_db.core.url import DatabaseURL


def _embedded_admin_url() -> DatabaseURL:
    from mandala_db.core.embedded import ensure_embedded

    state = Path(os.environ.get("MANDALA_TEST_STATE_DIR", ROOT / ".mandala" / "test"))
    state.mkdir(parents=True, exist_ok=True)
    return ensure_embedded(state, announce=False).with_database("postgres")


@pytest.fixture(scope="session")
def admin_url() -> DatabaseURL:
    raw = os.environ.get("TEST_DATABASE_URL")
    return DatabaseURL.parse(raw) if raw else _embedded_admin_url()


def server_binaries(base: Path) -> Path:
    """pgserver's PostgreSQL, where the server's own user can run it. Run as root, the server runs as the
    `pgserver` user, who cannot reach into a checkout in a private folder (a home folder, `mktemp -d`):
    then its bin, lib and share are copied beside the scratch cluster (27 MB, a fraction of a second)."""
    import pgserver

    install = Path(pgserver.__file__).parent / "pginstall"
    if os.geteuid() != 0:
        return install / "bin"
    # The same layout, for the binaries' RPATH ($ORIGIN/../../../pgserver.libs).
    site = base / "site"
    for part in ("bin", "lib", "share"):
        shutil.copytree(install / part, site / "pgserver" / "pginstall" / part, symlinks=True)
    shutil.copytree(install.parent.parent / "pgserver.libs", site / "pgserver.libs", symlinks=True)
    return site / "pgserver" / "pginstall" / "bin"


@pytest.fixture(scope="session")
def password_server() -> Iterator[DatabaseURL]:
    """A PostgreSQL that really checks passwords (scram-sha-256), owned by the sentinel password.

    The machine's server and the embedded one trust every local connection, so a wrong password could
    never fail there. This one is built from pgserver's binaries in a scratch directory.
    """
    base = Path(tempfile.mkdtemp(prefix="mdb-pw-"))
    base.chmod(0o755)
    bindir = server_binaries(base)
    prefix: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
        shutil.chown(base, "pgserver", "pgserver")
        prefix = ["runuser", "-u", "pgserver", "--"]
    pwfile = base / "pw"
    pwfile.write_text(SENTINEL_PASSWORD + "\n")
    if prefix:
        shutil.chown(pwfile, "pgserver", "pgserver")
    pgdata = base / "data"
    subprocess.run(
        [
            *prefix,
            str(bindir / "initdb"),
            "-D",
            str(pgdata),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "-E",
            "UTF8",
        ],
        check=True,
        capture_output=True,
    )
    pwfile.unlink()
    subprocess.run(
        [
            *prefix,
            str(bindir / "pg_ctl"),
            "-D",
            str(pgdata),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            f"-k {base} -h '' -p 5499",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield DatabaseURL(
            "postgres", SENTINEL_PASSWORD, (), "postgres", (("host", str(base)), ("port", "5499"))
        )
    finally:
        subprocess.run(
            [*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@dataclasses.dataclass
class TlsServer:
    """A PostgreSQL on loopback with a certificate from a throw-away CA, and pg_hba.conf the test sets."""

    url: DatabaseURL  # TCP to localhost, no sslmode: the test says which
    ca: Path
    pgdata: Path
    prefix: list[str]
    bindir: Path

    def use_hba(self, *lines: str) -> None:
        hba = self.pgdata / "pg_hba.conf"
        hba.write_text("local all all trust\n" + "".join(f"{line}\n" for line in lines))
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "reload"], check=True,
                       capture_output=True)  # fmt: skip
        time.sleep(0.3)  # the postmaster rereads the file on SIGHUP, asynchronously


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=cwd)


@pytest.fixture(scope="session")
def tls_server() -> Iterator[TlsServer]:
    """A scratch cluster of the machine's PostgreSQL (pgserver's build has no TLS); certificates by openssl."""
    import glob

    if shutil.which("openssl") is None:
        pytest.skip("needs openssl to make a throw-away CA")
    builds = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if not builds:
        pytest.skip("needs a PostgreSQL built with TLS (/usr/lib/postgresql/*/bin); pgserver's has none")
    bindir = Path(builds[-1]).parent
    base = Path(tempfile.mkdtemp(prefix="mdb-tls-"))
    base.chmod(0o755)
    prefix: list[str] = []
    owner = None
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
        owner = "pgserver"
        shutil.chown(base, owner, owner)
        prefix = ["runuser", "-u", owner, "--"]
    certs = base / "certs"
    certs.mkdir()
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=mandala-db test CA",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=certs)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key",
             "-out", "server.csr", cwd=certs)  # fmt: skip
    (certs / "san.ext").write_text("subjectAltName = DNS:localhost, IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
             "-days", "2", "-extfile", "san.ext", "-out", "server.pem", cwd=certs)  # fmt: skip
    (certs / "server.key").chmod(0o600)
    if owner:
        for path in certs.iterdir():
            shutil.chown(path, owner, owner)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    pgdata = base / "data"
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)  # fmt: skip
    with (pgdata / "postgresql.conf").open("a") as conf:
        conf.write(
            f"ssl = on\nssl_cert_file = '{certs / 'server.pem'}'\nssl_key_file = '{certs / 'server.key'}'\n"
            f"listen_addresses = '127.0.0.1'\nport = {port}\nunix_socket_directories = '{base}'\n"
        )
    server = TlsServer(
        DatabaseURL("postgres", None, (("localhost", port),), "postgres", ()),
        certs / "ca.pem",
        pgdata,
        prefix,
        bindir,
    )
    started = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(base / "log"), "-w", "start"],
                             capture_output=True, text=True)  # fmt: skip
    if started.returncode != 0:
        log = (base / "log").read_text() if (base / "log").exists() else started.stderr
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"the TLS test server did not start: {log[-2000:]}")
    try:
        yield server
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def aws_server() -> Iterator[dict[str, str]]:
    """moto's server (S3, CloudWatch, CloudWatch Logs, SNS, SQS) on loopback only; the environment that points
    boto3 at it with throw-away credentials."""
    import sys

    port = free_port()
    moto = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    proc = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    env = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        yield env
    finally:
        proc.terminate()
        proc.wait()


class BadServer:
    """An HTTP endpoint on loopback that misbehaves the way a sink's server does on a bad day:
    - hang: accepts, reads the request, never answers;
    - drip: answers 200 one byte a second, with a body that would take minutes;
    - error: answers 500 at once;
    - huge: answers 200 with a 30 MB body;
    - closed: nothing listens on the port at all.
    It records how many requests reached it. Stopped by `close()`; its threads are daemons."""

    MODES = ("hang", "drip", "error", "huge", "closed")

    def __init__(self, mode: str) -> None:
        import threading

        assert mode in self.MODES
        self.mode = mode
        self.requests = 0
        self._stop = threading.Event()
        self._sock: socket.socket | None = None
        if mode == "closed":
            self.port = free_port()
        else:
            self._sock = socket.socket()
            self._sock.bind(("127.0.0.1", 0))
            self._sock.listen(16)
            self.port = self._sock.getsockname()[1]
            threading.Thread(target=self._serve, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        import threading

        assert self._sock is not None
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(5)
            try:
                conn.recv(65536)  # the request (its head and, for small bodies, all of it)
            except OSError:
                return
            self.requests += 1
            try:
                if self.mode == "hang":
                    self._stop.wait(600)
                elif self.mode == "drip":
                    for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000:
                        if self._stop.wait(1):
                            return
                        conn.sendall(bytes([byte]))
                elif self.mode == "error":
                    conn.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nboom")
                elif self.mode == "huge":
                    size = 30 * 1024 * 1024
                    conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
                    block = b"y" * 65536
                    for _ in range(size // len(block)):
                        if self._stop.is_set():
                            return
                        conn.sendall(block)
            except OSError:
                return

    def close(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()


@pytest.fixture
def bad_server(request: pytest.FixtureRequest) -> Iterator[BadServer]:
    server = BadServer(request.param)
    yield server
    server.close()


class StallingProxy:
    """A forwarding HTTP proxy on loopback in front of a real server (moto), that holds forever every
    request whose method and path match `stall` (say `PUT` with `partNumber=`), and records that one
    arrived: the moment a test aims a kill at."""

    def __init__(self, upstream: str, stall: Callable[[str, str], bool]) -> None:
        import http.client
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import urlparse

        target = urlparse(upstream)
        self.stalled = threading.Event()
        self._release = threading.Event()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if stall(self.command, self.path):
                    proxy.stalled.set()
                    proxy._release.wait(600)
                    return
                upstream_conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                upstream_conn.request(self.command, self.path, body=body, headers=headers)
                answer = upstream_conn.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for k, v in answer.getheaders():
                    if k.lower() not in ("transfer-encoding", "content-length", "connection"):
                        self.send_header(k, v)
                # A HEAD answer carries the object's length, not its (empty) body's.
                length = answer.getheader("Content-Length") if self.command == "HEAD" else None
                self.send_header("Content-Length", length or str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream_conn.close()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()


@dataclasses.dataclass
class ScratchServer:
    """A PostgreSQL of this test alone (trust auth, a Unix socket), which the test may stop at any moment."""

    url: DatabaseURL
    pgdata: Path
    prefix: list[str]
    bindir: Path

    def crash(self) -> None:
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-m", "immediate",
                        "stop"], capture_output=True)  # fmt: skip


def server_folder(name: str) -> tuple[Path, Path, list[str]]:
    """A temp folder for clusters of one test, pgserver's binaries beside them, and the prefix that runs
    them as the `pgserver` user when the suite runs as root (PostgreSQL refuses to run as root)."""
    base = Path(tempfile.mkdtemp(prefix=name))
    base.chmod(0o755)
    bindir = server_binaries(base)
    prefix: list[str] = []
    if os.geteuid() == 0:
        from pgserver.utils import ensure_user_exists

        ensure_user_exists("pgserver")
        shutil.chown(base, "pgserver", "pgserver")
        prefix = ["runuser", "-u", "pgserver", "--"]
    return base, bindir, prefix


@pytest.fixture
def scratch_server() -> Iterator[ScratchServer]:
    base, bindir, prefix = server_folder("mdb-crash-")
    pgdata = base / "data"
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(base / "log"), "-w", "-o",
                    f"-k {base} -h '' -p {port}", "start"], check=True, capture_output=True)  # fmt: skip
    server = ScratchServer(
        DatabaseURL("postgres", None, (), "postgres", (("host", str(base)), ("port", str(port)))),
        pgdata,
        prefix,
        bindir,
    )
    try:
        yield server
    finally:
        server.crash()
        shutil.rmtree(base, ignore_errors=True)


@dataclasses.dataclass
class ReplicatedServer:
    """A primary of this test alone and one streaming replica of it (pg_basebackup -R), each on its own
    port and Unix socket; the replica reports every second, so the primary's pg_stat_replication is fresh."""

    primary: DatabaseURL
    replica: DatabaseURL


@pytest.fixture
def replicated_server() -> Iterator[ReplicatedServer]:
    base, bindir, prefix = server_folder("mdb-replica-")
    primary, replica = base / "primary", base / "replica"
    ports = free_port(), free_port()
    urls = [
        DatabaseURL("postgres", None, (), "postgres", (("host", str(base)), ("port", str(p)))) for p in ports
    ]

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True)

    def start(pgdata: Path, port: int, *options: str) -> None:
        run(str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", f"{pgdata}.log", "-w", "-o",
            " ".join([f"-k {base} -h '' -p {port}", *options]), "start")  # fmt: skip

    run(str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    start(primary, ports[0])
    try:
        run(str(bindir / "pg_basebackup"), "-h", str(base), "-p", str(ports[0]), "-U", "postgres", "-D",
            str(replica), "-R", "-X", "stream")  # fmt: skip
        start(replica, ports[1], "-c wal_receiver_status_interval=1")
        yield ReplicatedServer(*urls)
    finally:
        for pgdata in (replica, primary):
            subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                           capture_output=True)  # fmt: skip
        shutil.rmtree(base, ignore_errors=True)


def physical_binaries() -> Path | None:
    """Server binaries pgBackRest can back up: Debian's pgbackrest 2.45 knows PostgreSQL up to 15, so the
    newest /usr/lib/postgresql/N/bin it supports (pgserver's 16 only with pgBackRest 2.47 or later)."""
    if shutil.which("pgbackrest") is None:
        return None
    out = subprocess.run(["pgbackrest", "version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+)\.(\d+)", out)
    newest = 16 if m and (int(m.group(1)), int(m.group(2))) >= (2, 47) else 15
    found = sorted((int(p.parent.parent.name), p.parent) for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")
                   if p.parent.parent.name.isdigit() and int(p.parent.parent.name) <= newest)  # fmt: skip
    return found[-1][1] if found else None


# Autovacuum off: a vacuum that commits behind a test would move "the newest commit" an RPO is measured
# against. A later -c overrides one of these.
ARCHIVING = "-c wal_level=replica -c archive_mode=on -c archive_timeout=60 -c autovacuum=off"


@dataclasses.dataclass
class ArchivingServer(ScratchServer):
    """A cluster of this test alone with WAL archiving on and no archive_command yet (what `pitr setup`
    sets), on server binaries pgBackRest supports; `base` holds it, its socket and the repository."""

    base: Path = Path()

    @property
    def config(self) -> Path:
        return self.base / "conf" / "pgbackrest.conf"

    @property
    def repo(self) -> Path:
        return self.base / "repo"

    def ready(self, stanza: str = "demo") -> Any:
        """`pitr setup` run on it (the stanza `demo`, its repository beside it): the stanza, ready to back up."""
        from mandala_db.core.database import Database
        from mandala_db.ops.pitr.setup import setup, stanza_for

        db = Database(self.url)
        setup(db, stanza, str(self.repo), self.config)
        return stanza_for(db, stanza, str(self.repo), self.config)

    def restart(self, *options: str) -> None:
        """Restarted with its archiving options and `options` after them (a later -c wins)."""
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(self.pgdata), "-l", str(self.base / "log"),
                        "-w", "-m", "fast", "-o", " ".join([f"-k {self.base} -h '' -p {self.url.params[1][1]}",
                        ARCHIVING, *options]), "restart"], check=True, capture_output=True)  # fmt: skip

    def stop_copy(self, pgdata: Path) -> None:
        """A restored copy stopped, if it runs (a test's clean-up: it never fails)."""
        subprocess.run([*self.prefix, str(self.bindir / "pg_ctl"), "-D", str(pgdata), "-m", "immediate", "stop"],
                       capture_output=True)  # fmt: skip


@pytest.fixture
def archiving_server() -> Iterator[ArchivingServer]:
    bindir = physical_binaries()
    if bindir is None:
        pytest.skip("needs pgbackrest and PostgreSQL server binaries it supports (.ci/run installs them)")
    base, _, prefix = server_folder("mdb-pitr-")
    pgdata = base / "data"
    subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)  # fmt: skip
    port = free_port()
    options = f"-k {base} -h '' -p {port} {ARCHIVING}"
    subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(pgdata), "-l", str(base / "log"), "-w", "-o", options,
                    "start"], check=True, capture_output=True)  # fmt: skip
    url = DatabaseURL("postgres", None, (), "postgres", (("host", str(base)), ("port", str(port))))
    server = ArchivingServer(url, pgdata, prefix, bindir, base)
    try:
        yield server
    finally:
        server.crash()
        shutil.rmtree(base, ignore_errors=True)
