"""The default mailer: each message becomes one `.eml` file named after its Message-ID.

Re-sending a message (same Message-ID) atomically replaces its file, so a folder holds one
file per notification however often a crashed send was retried.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from tools.email.mailer import OutboundEmail
from tools.email.message import build_mime

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


def eml_filename(message_id: str) -> str:
    """A filesystem-safe, collision-free file name for a Message-ID."""
    bare = message_id.strip().strip("<>")
    safe = _UNSAFE.sub("_", bare)[:150]
    if safe != bare or not safe:  # lossy: keep distinct ids distinct
        safe = f"{safe}-{hashlib.sha256(message_id.encode()).hexdigest()[:12]}"
    return f"{safe}.eml"


class FileOutboxMailer:
    """Writes messages into `folder` (created on first send)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def path_for(self, message_id: str) -> Path:
        return self.folder / eml_filename(message_id)

    def send(self, email: OutboundEmail) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        data = build_mime(email).as_bytes()
        fd, temp_name = tempfile.mkstemp(dir=self.folder, prefix=".sending-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self.path_for(email.message_id))
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
