"""A real IMAP server on loopback for the mailbox tests: Debian's dovecot, run alone.

The bounce mailbox's tests and the capture mailbox's use it.

Each server has its own configuration, mail store, sockets and log in a temporary
folder (nothing of the system's dovecot is used), one user with a plain password,
and listens on 127.0.0.1 on a free port. ``make imap-server`` installs dovecot.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from imap_tools import MailBoxUnencrypted

DOVECOT = "/usr/sbin/dovecot"
USER = "bounces"
PASSWORD = "bounce-mailbox-password"  # nosec B105

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = engage-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 0
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = passwd-file
  args = {root}/passwd
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@dataclass(frozen=True)
class ImapServer:
    """A running server: where it listens and who may sign in."""

    host: str
    port: int
    user: str
    password: str
    log: Path

    @property
    def url(self) -> str:
        """The mailbox URL (``BOUNCE_IMAP_URL``, ``CAPTURE_IMAP_URL``)."""
        return f"imap://{self.user}:{self.password}@{self.host}:{self.port}/INBOX"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _service_account() -> tuple[str, str, int, int]:
    """The account dovecot's own processes and the mail user run as.

    dovecot will not run its login processes or a mail user as root: when the tests
    run as root, it uses ``nobody``.
    """
    uid = os.getuid()
    account = pwd.getpwnam("nobody") if uid == 0 else pwd.getpwuid(uid)
    group = grp.getgrgid(account.pw_gid).gr_name
    return account.pw_name, group, account.pw_uid, account.pw_gid


def _wait_until_listening(
    process: subprocess.Popen[bytes], port: int, root: Path
) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                if conn.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    logs = [root / "dovecot.log", root / "stderr.log"]
    text = "\n".join(p.read_text(errors="replace") for p in logs if p.exists())
    pytest.fail(f"dovecot did not start on 127.0.0.1:{port}. Its output:\n{text}")


@contextmanager
def running_dovecot() -> Iterator[ImapServer]:
    """Start dovecot on loopback for the block, and stop it (and delete its files)."""
    binary = DOVECOT if os.path.exists(DOVECOT) else shutil.which("dovecot")
    if not binary:
        pytest.fail(
            "The mailbox tests need a real IMAP server: Debian's dovecot "
            f"({DOVECOT}) is not installed. Run `make imap-server` (as root it "
            "installs dovecot-imapd), or `sudo apt-get install dovecot-imapd`."
        )
    user, group, uid, gid = _service_account()
    root = Path(tempfile.mkdtemp(prefix="engage-imap-"))
    process: subprocess.Popen[bytes] | None = None
    try:
        root.chmod(0o755)  # the mail user (nobody, under root) must reach its maildir
        for name in ("run", "state", "mail", "home"):
            (root / name).mkdir()
        if os.getuid() == 0:
            for name in ("mail", "home"):
                os.chown(root / name, uid, gid)
        port = _free_port()
        (root / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{uid}:{gid}::{root}/home::\n"
        )
        config = root / "dovecot.conf"
        config.write_text(_CONFIG.format(root=root, port=port, user=user, group=group))
        log = root / "dovecot.log"
        with (root / "stderr.log").open("wb") as errors:
            process = subprocess.Popen(  # noqa: S603  # nosec B603
                [binary, "-F", "-c", str(config)],
                stdout=subprocess.DEVNULL,
                stderr=errors,
            )
        _wait_until_listening(process, port, root)
        yield ImapServer("127.0.0.1", port, USER, PASSWORD, log)
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


def signed_in(server: ImapServer) -> MailBoxUnencrypted:
    """A client signed in to the server's mailbox (use it in a ``with`` block)."""
    return MailBoxUnencrypted(server.host, server.port).login(
        server.user, server.password
    )


def deliver(server: ImapServer, *messages: bytes) -> None:
    """Put these messages in the server's INBOX, as a mail server delivering them."""
    with signed_in(server) as mailbox:
        for raw in messages:
            mailbox.append(raw, "INBOX")
