"""The issuance center's layer on a city's PDF: the signed QR code and a copy-evident background.

The city's PDF is kept byte for byte: the layer is appended as an
incremental update (ISO 32000-1 §7.5.6), so the first ``content_length``
bytes of a stamped file are exactly the document whose digest the QR
payload signs.

The center stamps every print, so the layer is cheap by construction: the
background (地紋, 「複写」 tiled faintly) and the caption are drawn once per
process into Form XObjects, and each stamp only adds them by reference,
together with the QR code as a small 1-bit image.
"""

from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass
from functools import cache
from typing import Any

import zxingcpp
from PIL import Image
from pypdf import PageObject, PdfReader
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts

__all__ = ["prepare", "qr_image", "stamp"]

_QR_AT = (15 * mm, 14 * mm)  # lower left corner of the code on the first page
_QR_SIDE = 30 * mm
_BACKGROUND = NameObject("/KofuBackground")
_CAPTION = NameObject("/KofuCaption")
_QR = NameObject("/KofuQR")


_PIXELS_PER_MODULE = 4  # one pixel a module blurs when a 150 dpi scan resamples it
# The payload is compressed and signed, so its bits look random and every mask
# pattern scores about the same; the full penalty search (ISO/IEC 18004 §7.8.3)
# took 85 % of the time to make a code, and over 300 real payloads it chose
# pattern 3 most often.  zxing-cpp 3.1 reads ``options`` from the second key
# on, so the level is given twice: as the argument and as the first key.
_MASK_OPTIONS = "ecLevel=M,dataMask=3"


def qr_image(text: str) -> tuple[bytes, bytes]:
    """The QR code (level M) as a 1-bit image XObject, and the operators that draw it.

    Four pixels a module, one bit a pixel, Flate-compressed: a kilobyte or
    two, made in about half a millisecond, and decodable from a render at
    100 to 300 dpi (/Interpolate false).  The operators paint the quiet zone
    white first, two modules each side.
    """
    code = zxingcpp.create_barcode(
        text, zxingcpp.BarcodeFormat.QRCode, ec_level="M", options=_MASK_OPTIONS
    )
    modules = code.to_image(scale=1, add_quiet_zones=False)
    size = modules.shape[0]
    grey = Image.frombytes("L", (size, size), bytes(memoryview(modules)))  # type: ignore[arg-type]
    one_bit = grey.convert("1", dither=Image.Dither.NONE)
    pixels = size * _PIXELS_PER_MODULE
    # 1 light, 0 dark, rows byte-aligned; nearest neighbour keeps every module square.
    # zlib's fastest level: a quarter of the time of its default for 15 % more of a kilobyte
    bits = zlib.compress(one_bit.resize((pixels, pixels), Image.Resampling.NEAREST).tobytes(), 1)
    head = (
        b"<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray"
        b" /BitsPerComponent 1 /Interpolate false /Filter /FlateDecode /Length %d >>"
        % (pixels, pixels, len(bits))
    )
    module = _QR_SIDE / (size + 4)
    x, y, side = _QR_AT[0] + 2 * module, _QR_AT[1] + 2 * module, size * module
    draw = (
        f"q 1 g {_QR_AT[0]:.2f} {_QR_AT[1]:.2f} {_QR_SIDE:.2f} {_QR_SIDE:.2f} re f Q\n"
        f"q {side:.3f} 0 0 {side:.3f} {x:.3f} {y:.3f} cm {_QR} Do Q"
    )
    return head + b"\nstream\n" + bits + b"\nendstream", draw.encode()


def _draw_fixed_parts() -> bytes:
    """Two pages: the 「複写」 background, then the caption under the QR code."""
    mincho, _ = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho)
    c.setFillGray(0.90)
    c.setFont(mincho, 34)
    for row in range(9):
        for col in range(4):
            c.drawString((12 + col * 52) * mm, (20 + row * 32 + (col % 2) * 14) * mm, "複写")
    c.showPage()
    c.setFont(mincho, 6.5)
    c.drawString(47 * mm, 16 * mm, "偽造防止コード（kofu verify で確認できます）")
    c.showPage()
    c.save()
    return buffer.getvalue()


def _as_form(page: PageObject) -> StreamObject:
    """A page of the fixed parts as a Form XObject with the page's own resources."""
    form = DecodedStreamObject()
    form.set_data(page.get_contents().get_data())  # type: ignore[union-attr]
    form[NameObject("/Type")] = NameObject("/XObject")
    form[NameObject("/Subtype")] = NameObject("/Form")
    form[NameObject("/BBox")] = page["/MediaBox"]
    form[NameObject("/Resources")] = page["/Resources"]
    return form


_MARK = 9_000_000  # local numbers of the fixed objects while they are templates
_LOCAL_REF = re.compile(rb"9(\d{6}) 0 R")


@dataclass(frozen=True)
class _Template:
    """The fixed objects serialized once; ``parts`` alternate bytes and local object numbers."""

    objects: tuple[tuple[tuple[bytes | int, ...], bytes | None], ...]

    def render(self, base: int) -> list[bytes]:
        """Each object's body with its references numbered from ``base``."""
        out = []
        for parts, data in self.objects:
            text = b"".join(p if isinstance(p, bytes) else b"%d 0 R" % (base + p) for p in parts)
            out.append(text if data is None else text + b"\nstream\n" + data + b"\nendstream")
        return out


def _relabel(obj: Any, local: dict[int, int], queue: list[Any]) -> Any:
    """A copy of ``obj`` whose references point at local numbers (new objects are queued)."""
    if isinstance(obj, IndirectObject):
        if obj.idnum not in local:
            local[obj.idnum] = len(local)
            queue.append(obj.get_object())
        return IndirectObject(_MARK + local[obj.idnum], 0, None)
    if isinstance(obj, DictionaryObject):
        copy = DictionaryObject()
        for key, value in obj.items():
            copy[NameObject(key)] = _relabel(value, local, queue)
        return copy
    if isinstance(obj, ArrayObject):
        return ArrayObject(_relabel(v, local, queue) for v in obj)
    return obj


def _serialize(obj: Any) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()


def prepare() -> None:
    """Build the fixed parts now (a service calls it before forking its workers).

    Otherwise the first stamp in each worker parses the fonts and draws the
    background while the requests behind it wait: seconds, at start-up.
    """
    _template()


def _canonical(data: bytes) -> bytes:
    """A stream's bytes compressed by us, whatever compressor reportlab was given in this process.

    The verifier draws the layer again and compares it byte for byte, so the
    layer must not depend on what else the process rendered first (the
    renderer installs its own faster Flate in reportlab, see ``sheet``).
    """
    return zlib.compress(data, 9)


@cache
def _template() -> _Template:
    """The background and caption forms and everything they use (the font subset), once."""
    reader = PdfReader(io.BytesIO(_draw_fixed_parts()))
    forms = [_as_form(reader.pages[0]).flate_encode(), _as_form(reader.pages[1]).flate_encode()]
    local: dict[int, int] = {-1: 0, -2: 1}  # the two forms are local objects 0 and 1
    queue: list[Any] = list(forms)
    objects: list[tuple[tuple[bytes | int, ...], bytes | None]] = []
    while len(objects) < len(queue):
        obj = queue[len(objects)]
        data = None
        if isinstance(obj, StreamObject):
            data = _canonical(obj.get_data())
            head = DictionaryObject({NameObject(k): v for k, v in obj.items()})
            head.pop(NameObject("/DecodeParms"), None)
            head[NameObject("/Filter")] = NameObject("/FlateDecode")
            head[NameObject("/Length")] = NumberObject(len(data))
            text = _serialize(_relabel(head, local, queue))
        else:
            text = _serialize(_relabel(obj, local, queue))
        pieces = _LOCAL_REF.split(text)  # text, number, text, number, …, text
        parts = tuple(p if i % 2 == 0 else int(p) for i, p in enumerate(pieces))
        objects.append((parts, data))
    return _Template(tuple(objects))


def _content(first: bool, qr: bytes) -> bytes:
    """What the layer draws on one page: ``Q`` ends the city's content, wrapped in ``q`` first."""
    parts = [b"Q", b"q", _BACKGROUND.encode() + b" Do"]
    if first:
        parts += [_CAPTION.encode() + b" Do", qr]
    parts.append(b"Q")
    return b"\n".join(parts)


def _resources_with(
    page: DictionaryObject, forms: dict[NameObject, IndirectObject]
) -> DictionaryObject:
    """The page's resources with the layer's forms added (copied inline, the original untouched)."""
    resources = DictionaryObject(page.get("/Resources", DictionaryObject()).get_object())
    xobjects = DictionaryObject(resources.get("/XObject", DictionaryObject()).get_object())
    xobjects.update(forms)
    resources[NameObject("/XObject")] = xobjects
    return resources


def _stream(data: bytes) -> bytes:
    return b"<< /Filter /FlateDecode /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"


def _xref(offsets: dict[int, int]) -> bytes:
    """A classic cross-reference section: one subsection per run of consecutive numbers.

    It starts with object 0, the head of the free list, as writers usually repeat it.
    """
    numbers = sorted(offsets)
    out, start = [b"xref\n0 1\n0000000000 65535 f \n"], 0
    while start < len(numbers):
        end = start
        while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
            end += 1
        out.append(b"%d %d\n" % (numbers[start], end - start + 1))
        out += [b"%010d 00000 n \n" % offsets[n] for n in numbers[start : end + 1]]
        start = end + 1
    return b"".join(out)


def stamp(pdf: bytes, qr_text: str) -> bytes:
    """The city's PDF with the center's layer appended as an incremental update.

    Only what changes is written after the original bytes: the fixed forms,
    one stream per page and the page dictionaries that now refer to them,
    a cross-reference section for those, and a trailer pointing back (/Prev)
    to the original's.
    """
    reader = PdfReader(io.BytesIO(pdf))
    previous = re.findall(rb"startxref\s+(\d+)", pdf[-1024:])
    if not previous:
        raise ValueError("not a complete PDF: no startxref")
    base = int(reader.trailer["/Size"])  # type: ignore[call-overload]
    fixed = _template().render(base)
    forms = {
        _BACKGROUND: IndirectObject(base, 0, None),
        _CAPTION: IndirectObject(base + 1, 0, None),
    }
    bodies: dict[int, bytes] = {base + i: body for i, body in enumerate(fixed)}
    opening = base + len(fixed)  # one "q" stream, shared by every page
    bodies[opening] = _stream(zlib.compress(b"q"))
    code = opening + 1  # the QR image, on the first page only
    bodies[code], qr = qr_image(qr_text)
    number = code + 1
    for index, page in enumerate(reader.pages):
        layer, number = number, number + 1
        bodies[layer] = _stream(zlib.compress(_content(index == 0, qr)))
        original = page.raw_get("/Contents")
        contents = list(original) if isinstance(original, ArrayObject) else [original]
        changed = DictionaryObject({NameObject(k): v for k, v in page.items()})
        changed[NameObject("/Contents")] = ArrayObject(
            [IndirectObject(opening, 0, None), *contents, IndirectObject(layer, 0, None)]
        )
        images = {_QR: IndirectObject(code, 0, None)} if index == 0 else {}
        changed[NameObject("/Resources")] = _resources_with(page, forms | images)
        assert page.indirect_reference is not None
        bodies[page.indirect_reference.idnum] = _serialize(changed)
    return _appended(pdf, reader, bodies, number, int(previous[-1]))


def _appended(
    pdf: bytes, reader: PdfReader, bodies: dict[int, bytes], size: int, previous: int
) -> bytes:
    out = bytearray(pdf if pdf.endswith(b"\n") else pdf + b"\n")
    offsets = {}
    for number in sorted(bodies):
        offsets[number] = len(out)
        out += b"%d 0 obj\n" % number + bodies[number] + b"\nendobj\n"
    trailer = DictionaryObject({NameObject("/Size"): NumberObject(size)})
    for key in ("/Root", "/Info", "/ID"):
        if key in reader.trailer:
            trailer[NameObject(key)] = reader.trailer.raw_get(key)
    trailer[NameObject("/Prev")] = NumberObject(previous)
    start = len(out)
    out += _xref(offsets) + b"trailer\n" + _serialize(trailer)
    out += b"\nstartxref\n%d\n%%%%EOF\n" % start
    return bytes(out)
