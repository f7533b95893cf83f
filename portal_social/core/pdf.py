"""A plain-text PDF: lines of text on A4/Letter pages, for records filed to a host's EHR.

No dependency: the PDF is written by hand with the standard Helvetica font
(no embedding), so it opens in any reader and archives well. Text is wrapped
to the page width; characters outside Latin-1 (which the standard fonts
cannot show) are written as "?" — the plain-text file filed beside it keeps
every character.
"""

from __future__ import annotations

import textwrap

#: US Letter, in points.
PAGE_WIDTH, PAGE_HEIGHT = 612, 792
MARGIN = 56
FONT_SIZE = 10
LEADING = 14
#: Helvetica at 10 pt averages about 5 pt a character; wrap a little under the width.
WRAP = int((PAGE_WIDTH - 2 * MARGIN) / 5.2)


def _escape(line: str) -> str:
    latin = line.encode("latin-1", "replace").decode("latin-1")
    return latin.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrapped(text: str) -> list[str]:
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        expanded = paragraph.expandtabs(4)
        lines.extend(textwrap.wrap(expanded, WRAP, break_long_words=True, replace_whitespace=False) or [""])
    return lines


def text_pdf(text: str, *, title: str = "") -> bytes:
    """``text`` (any length) as PDF bytes, wrapped and paginated. ``title`` goes in the document info."""
    per_page = int((PAGE_HEIGHT - 2 * MARGIN) / LEADING)
    lines = _wrapped(text)
    pages = [lines[i : i + per_page] for i in range(0, len(lines), per_page)] or [[]]

    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the pages object's number is known
    pages_id = add(b"")
    font_id = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    page_ids = []
    for page in pages:
        stream_lines = [f"BT /F1 {FONT_SIZE} Tf {LEADING} TL {MARGIN} {PAGE_HEIGHT - MARGIN} Td"]
        for line in page:
            stream_lines.append(f"({_escape(line)}) Tj T*")
        stream_lines.append("ET")
        content = "\n".join(stream_lines).encode("latin-1")
        content_id = add(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
                    f"/Resources << /Font << /F1 {font_id} 0 R >> >> /Contents {content_id} 0 R >>"
                ).encode("latin-1")
            )
        )
    objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("latin-1")
    kids = " ".join(f"{pid} 0 R" for pid in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode("latin-1")
    info = add(f"<< /Title ({_escape(title)}) /Producer (portal_social) >>".encode("latin-1"))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog,
        info,
        xref,
    )
    return bytes(out)
