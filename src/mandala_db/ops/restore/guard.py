"""The guard between a backup and psql: psql runs any backslash command it reads (`\\! rm -rf`, `\\o`, `\\copy`,
`\\connect`), so a script edited by hand could run programs on this machine. The guard reads what psql will
read, the way psql's own lexer does (quotes, E'' strings, dollar quotes, comments, COPY data up to its
`\\.` line), and refuses any meta-command other than the `\\restrict` / `\\unrestrict` lines pg_dump writes.
It is fed in chunks, so a restore can stream through it; COPY data, nearly all of a dump, is skipped at
the speed of `bytes.find`.
"""

from __future__ import annotations

import re
from pathlib import Path

from mandala_db.core.errors import BadInput

_TOKEN = re.compile(rb"['\"$\\;\n]|--|/\*")
_DOLLAR_TAG = re.compile(rb"\$([A-Za-z_\x80-\xff][A-Za-z0-9_\x80-\xff]*)?\$")
_IDENT_CHAR = re.compile(rb"[A-Za-z0-9_$\x80-\xff]")
_ALLOWED_META = re.compile(rb"[ \t]*\\(restrict|unrestrict) [A-Za-z0-9]+[ \t\r]*")
_META_NAME = re.compile(rb"\\([A-Za-z!?;]*)")
_COPY_START = re.compile(rb"\s*copy\b", re.IGNORECASE)
_COPY_FROM_STDIN = re.compile(rb"\s*COPY\s+[^;]+?\s+FROM\s+stdin\s*", re.IGNORECASE | re.DOTALL)
_STD_STRINGS_ON = re.compile(rb"\s*SET\s+standard_conforming_strings\s*=\s*on\s*", re.IGNORECASE)
_COPY_END = (b"\n\\.\n", b"\n\\.\r\n")
_COMMENT_TOKEN = re.compile(rb"/\*|\*/|\n")
_ESTRING_TOKEN = re.compile(rb"[\\']")

NORMAL, SQUOTE, ESTRING, DQUOTE, DOLLAR, COMMENT, COPY = range(7)


class ScriptRefused(BadInput):
    """A backup that would make psql do something pg_dump never asks of it."""


class ScriptGuard:
    def __init__(self, source: str) -> None:
        self.source = source
        self.state = NORMAL
        self.line = 1
        self.statement = bytearray()  # the current statement, comments left out
        self.line_text = bytearray()  # the current line so far, for meta-commands at its start
        self.dollar_tag = b""
        self.comment_depth = 0
        self.copy_pending = False
        self.pending = b""  # an incomplete last line (SQL) or the tail a COPY end may straddle
        self.copy_tail = b""

    def _refuse(self, what: str) -> ScriptRefused:
        return ScriptRefused(
            f"{self.source}, line {self.line}: {what}, which pg_dump never writes; refused, nothing of it was run",
            "the backup was changed by hand or by an attacker; use another one",
        )

    def feed(self, data: bytes) -> None:
        buf = self.pending + data
        self.pending = b""
        while buf:
            if self.state == COPY:
                buf = self._skip_copy(buf)
                continue
            end = buf.rfind(b"\n")
            if end < 0:  # lex whole lines only: a token may straddle two chunks
                self.pending = buf
                return
            rest = self._lex(buf, end + 1)
            buf = buf[rest:]

    def close(self) -> None:
        """The end of the input: psql runs an unterminated last statement too, so it is read as well."""
        if self.pending and self.state != COPY:
            data, self.pending = self.pending + b"\n", b""
            self._lex(data, len(data))

    def _skip_copy(self, buf: bytes) -> bytes:
        hay = self.copy_tail + buf
        found = [i for i in (hay.find(end) for end in _COPY_END) if i >= 0]
        if not found:
            self.line += buf.count(b"\n")
            self.copy_tail = hay[-5:]
            return b""
        i = min(found)
        stop = hay.index(b"\n", i + 1) + 1  # just past the "\." line
        self.line += hay.count(b"\n", len(self.copy_tail), stop) if stop > len(self.copy_tail) else 0
        self.state, self.copy_tail = NORMAL, b""
        return hay[stop:]

    def _lex(self, buf: bytes, limit: int) -> int:
        """Reads buf[:limit] (whole lines); returns where the caller goes on (COPY data may start early)."""
        pos = 0
        while pos < limit:
            st = self.state
            if st == NORMAL:
                m = _TOKEN.search(buf, pos, limit)
                if not m:
                    self._text(buf[pos:limit])
                    return limit
                self._text(buf[pos : m.start()])
                pos = self._token(buf, m.start(), m.group(0), limit)
                if self.state == COPY:
                    return pos
            elif st in (SQUOTE, ESTRING, DQUOTE):
                pos = self._quoted(buf, pos, limit)
            elif st == DOLLAR:
                close = b"$" + self.dollar_tag + b"$"
                i = buf.find(close, pos, limit)
                if i < 0:
                    self._text(buf[pos:limit], in_literal=True)
                    return limit
                self._text(buf[pos : i + len(close)], in_literal=True)
                pos, self.state = i + len(close), NORMAL
            else:  # COMMENT
                m = _COMMENT_TOKEN.search(buf, pos, limit)
                if not m:
                    return limit
                pos = m.end()
                if m.group(0) == b"\n":
                    self._newline()
                elif m.group(0) == b"/*":
                    self.comment_depth += 1
                else:
                    self.comment_depth -= 1
                    if self.comment_depth == 0:
                        self.state = NORMAL
        return limit

    def _text(self, chunk: bytes, in_literal: bool = False) -> None:
        if not chunk:
            return
        if self.copy_pending and chunk.strip():
            raise self._refuse("text after COPY ... FROM stdin on the same line")
        self.statement += chunk
        self.line_text += chunk
        if in_literal:
            n = chunk.count(b"\n")
            if n:
                self.line += n
                self.line_text = bytearray(chunk[chunk.rfind(b"\n") + 1 :])

    def _newline(self) -> None:
        self.line += 1
        self.line_text = bytearray()

    def _token(self, buf: bytes, at: int, tok: bytes, limit: int) -> int:
        if tok == b"\n":
            self.statement += b"\n"
            self._newline()
            if self.copy_pending:
                self.copy_pending, self.state, self.copy_tail = False, COPY, b"\n"
            return at + 1
        if tok == b"--":
            end = buf.find(b"\n", at, limit)
            return end if end >= 0 else limit
        if tok == b"/*":
            self.state, self.comment_depth = COMMENT, 1
            return at + 2
        if tok == b";":
            self._text(b";")
            self._end_statement()
            return at + 1
        if tok == b"\\":
            end = buf.find(b"\n", at, limit)
            line = bytes(self.line_text) + buf[at : end if end >= 0 else limit]
            if not self.line_text.strip() and _ALLOWED_META.fullmatch(line):
                self.line_text += buf[at : end if end >= 0 else limit]
                return end if end >= 0 else limit
            name = _META_NAME.match(buf, at)
            raise self._refuse(
                f"the psql command \\{(name.group(1) if name else b'').decode('ascii', 'replace')}"
            )
        prev = bytes(self.statement[-1:])
        if tok == b"$":
            m = _DOLLAR_TAG.match(buf, at, limit)
            if (prev and _IDENT_CHAR.match(prev)) or not m:  # part of an identifier, or a parameter like $1
                self._text(b"$")
                return at + 1
            self._text(m.group(0))
            self.state, self.dollar_tag = DOLLAR, m.group(1) or b""
            return m.end()
        if tok == b"'":
            before = bytes(self.statement[-2:-1])
            escape = prev in (b"E", b"e") and not (before and _IDENT_CHAR.match(before))
            self.state = ESTRING if escape else SQUOTE
        else:
            self.state = DQUOTE
        self._text(tok)
        return at + 1

    def _quoted(self, buf: bytes, pos: int, limit: int) -> int:
        quote = b'"' if self.state == DQUOTE else b"'"
        while pos < limit:
            if self.state == ESTRING:
                m = _ESTRING_TOKEN.search(buf, pos, limit)
                i = m.start() if m else -1
            else:
                i = buf.find(quote, pos, limit)
            if i < 0:
                self._text(buf[pos:limit], in_literal=True)
                return limit
            if buf[i : i + 1] == b"\\":  # E'..\'..': the next byte is escaped
                self._text(buf[pos : i + 2], in_literal=True)
                pos = i + 2
                continue
            if buf[i + 1 : i + 2] == quote:  # '' or "": a doubled quote stays inside
                self._text(buf[pos : i + 2], in_literal=True)
                pos = i + 2
                continue
            self._text(buf[pos : i + 1], in_literal=True)
            self.state = NORMAL
            return i + 1
        return limit

    def _end_statement(self) -> None:
        text = bytes(self.statement).strip()
        self.statement = bytearray()
        if _COPY_START.match(text):
            if not _COPY_FROM_STDIN.fullmatch(text[:-1]):
                raise self._refuse("a COPY other than the COPY ... FROM stdin that loads a table")
            self.copy_pending = True
        elif b"standard_conforming_strings" in text.lower() and not _STD_STRINGS_ON.fullmatch(text[:-1]):
            # psql lexes quotes by this setting: turned off, it would read a line differently from us.
            raise self._refuse("a change of standard_conforming_strings")


def scan_file(path: Path) -> None:
    """Read a whole script through the guard (a plain backup, before anything of it runs)."""
    guard = ScriptGuard(str(path))
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            guard.feed(block)
    guard.close()
