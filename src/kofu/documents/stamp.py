"""The issuance center's layer on a city's PDF: the signed QR code and a copy-evident background.

The city's PDF is kept byte for byte: the layer is appended as an
incremental update (ISO 32000-1 §7.5.6), so the first ``content_length``
bytes of a stamped file are exactly the document whose digest the QR
payload signs.

The background is the copy-evident 地紋 of security paper (a void
pantograph), drawn *under* the city's content: the page is tinted with fine
dots, and inside a latent 「複写」 the same tint is made of coarse dots.  To
the eye both read as one faint, even tint; a copier or a scanner cannot hold
the fine dots (they fall below its resolution and drop out at its
threshold) but keeps the coarse ones, so 「複写」 appears on the copy.  The
dots are two PDF tiling patterns, a few hundred bytes in all.

The center stamps every print, so the layer is cheap by construction: the
background and the caption are drawn once per process into Form XObjects,
and each stamp only adds them by reference, together with the QR code as a
small 1-bit image.

The layer has a version.  Version 1 tiled a faint visible 「複写」 over the
data and captioned the code with the command line; version 2 (``LAYER``) is
the latent background and the caption with the public verifier's address.
``kofu verify`` redraws a layer and compares it byte for byte, so it accepts
every version ever stamped (``LAYERS``), and a page stamped before the
change still verifies.
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
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    FloatObject,
    IndirectObject,
    NameObject,
    NumberObject,
    StreamObject,
)
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from kofu.documents.fonts import register_fonts

__all__ = [
    "LAYER",
    "LAYERS",
    "VERIFIER_ADDRESS",
    "draw_latent_word",
    "prepare",
    "qr_image",
    "stamp",
]

LAYER = 2  # what the center stamps now
LAYERS = (2, 1)  # what a verifier accepts, newest first
# The public verifier's address as the caption prints it: the page `kofu verifier build`
# writes is published there (an .example name until the deployment has its own).
VERIFIER_ADDRESS = "https://verify.kofu.example/"

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


def _draw_fixed_parts_v1() -> bytes:
    """Version 1: a visible 「複写」 tiled faintly over the page, the command line as caption."""
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


# The void pantograph: dots of one ink, fine outside the latent word and coarse inside it,
# at the same mean tone.  A 150 dpi copier pixel is 0.17 mm: a fine dot (0.10 mm) darkens
# it by a quarter at most and drops out at the threshold; a coarse dot (0.36 mm) covers
# whole pixels and stays.  The coarse radius is the one whose rendering at 300 and 600 dpi
# has the fine field's mean tone (tests/documents/test_copy_evident.py measures both).
_INK = 0.30  # grey of the dots (0 black, 1 white)
_FINE = (0.35 * mm, 0.05 * mm)  # pitch, radius
_COARSE = (1.40 * mm, 0.18 * mm)
_FINE_PATTERN = NameObject("/KofuFine")
_COARSE_PATTERN = NameObject("/KofuCoarse")
_WORD = "複写"
_WORD_SIZE = 96  # points: strokes wide enough to hold coarse dots
_WORD_AT = tuple(  # lower-left corners (points) of the latent words, two columns, four rows
    (x * mm, y * mm) for y in (18, 88, 158, 228) for x in (22, 112)
)


def draw_latent_word(c: Canvas, face: str) -> None:
    """The latent 「複写」 at its places, in the canvas's current fill (also the tests' mask)."""
    c.setFont(face, _WORD_SIZE)
    for x, y in _WORD_AT:
        c.drawString(x, y, _WORD)


def _circle(x: float, y: float, r: float) -> str:
    """A disc as four Bézier arcs (k = 0.5523 of the radius for the control points)."""
    k = 0.5523 * r
    return (
        f"{x + r:.3f} {y:.3f} m "
        f"{x + r:.3f} {y + k:.3f} {x + k:.3f} {y + r:.3f} {x:.3f} {y + r:.3f} c "
        f"{x - k:.3f} {y + r:.3f} {x - r:.3f} {y + k:.3f} {x - r:.3f} {y:.3f} c "
        f"{x - r:.3f} {y - k:.3f} {x - k:.3f} {y - r:.3f} {x:.3f} {y - r:.3f} c "
        f"{x + k:.3f} {y - r:.3f} {x + r:.3f} {y - k:.3f} {x + r:.3f} {y:.3f} c f"
    )


def _dot_pattern(pitch: float, radius: float) -> StreamObject:
    """A tiling pattern (ISO 32000-1 §8.7.3): one dot in the middle of a pitch × pitch cell."""
    pattern = DecodedStreamObject()
    half = pitch / 2
    pattern.set_data(f"{_INK} g {_circle(half, half, radius)}".encode())
    pattern.update(
        {
            NameObject("/Type"): NameObject("/Pattern"),
            NameObject("/PatternType"): NumberObject(1),
            NameObject("/PaintType"): NumberObject(1),
            NameObject("/TilingType"): NumberObject(1),
            NameObject("/BBox"): ArrayObject(
                [NumberObject(0), NumberObject(0), FloatObject(pitch), FloatObject(pitch)]
            ),
            NameObject("/XStep"): FloatObject(pitch),
            NameObject("/YStep"): FloatObject(pitch),
            NameObject("/Resources"): DictionaryObject(),
        }
    )
    return pattern


def _draw_fixed_parts_v2() -> bytes:
    """Version 2: fine dots over the page, the latent word knocked out and redrawn coarse."""
    mincho, gothic = register_fonts()
    buffer = io.BytesIO()
    c = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1, initialFontName=mincho)
    width, height = A4
    c._code.append(f"/Pattern cs {_FINE_PATTERN} scn 0 0 {width:.2f} {height:.2f} re f")
    c.setFillGray(1)
    draw_latent_word(c, gothic)  # the fine dots out of the word…
    c._code.append(f"/Pattern cs {_COARSE_PATTERN} scn")
    draw_latent_word(c, gothic)  # … and the coarse ones in (same ink, same coverage)
    c.showPage()
    c.setFont(mincho, 6.5)
    c.drawString(47 * mm, 17.5 * mm, "偽造防止コード：読み取ると内容を確認できます")
    c.drawString(47 * mm, 14 * mm, f"Verify: {VERIFIER_ADDRESS}")
    c.showPage()
    c.save()
    return buffer.getvalue()


def _fixed_pages(version: int) -> list[PageObject]:
    """The background page and the caption page of a layer version, patterns attached."""
    if version == 1:
        return list(PdfReader(io.BytesIO(_draw_fixed_parts_v1())).pages)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_draw_fixed_parts_v2())))
    background = writer.pages[0]
    resources = background["/Resources"].get_object()
    assert isinstance(resources, DictionaryObject)
    resources[NameObject("/Pattern")] = DictionaryObject(
        {
            _FINE_PATTERN: writer._add_object(_dot_pattern(*_FINE)),
            _COARSE_PATTERN: writer._add_object(_dot_pattern(*_COARSE)),
        }
    )
    return [background, writer.pages[1]]


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
    _template(LAYER)


def _canonical(data: bytes) -> bytes:
    """A stream's bytes compressed by us, whatever compressor reportlab was given in this process.

    The verifier draws the layer again and compares it byte for byte, so the
    layer must not depend on what else the process rendered first (the
    renderer installs its own faster Flate in reportlab, see ``sheet``).
    """
    return zlib.compress(data, 9)


@cache
def _template(version: int) -> _Template:
    """The background and caption forms and everything they use (the font subset), once."""
    forms = [_as_form(page).flate_encode() for page in _fixed_pages(version)]
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


def _opening(version: int) -> bytes:
    """What comes before the city's content: (version 2) the background under it, then ``q``."""
    return b"q" if version == 1 else b"q " + _BACKGROUND.encode() + b" Do Q q"


def _content(first: bool, qr: bytes, version: int) -> bytes:
    """What the layer draws on one page: ``Q`` ends the city's content, wrapped in ``q`` first."""
    parts = [b"Q", b"q"]
    if version == 1:  # the background over the content
        parts.append(_BACKGROUND.encode() + b" Do")
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


def stamp(pdf: bytes, qr_text: str, version: int = LAYER) -> bytes:
    """The city's PDF with the center's layer appended as an incremental update.

    Only what changes is written after the original bytes: the fixed forms,
    one stream per page and the page dictionaries that now refer to them,
    a cross-reference section for those, and a trailer pointing back (/Prev)
    to the original's.  ``version`` draws an older layer (for the verifier).
    """
    if version not in LAYERS:
        raise ValueError(f"no layer version {version}; one of {LAYERS}")
    reader = PdfReader(io.BytesIO(pdf))
    previous = re.findall(rb"startxref\s+(\d+)", pdf[-1024:])
    if not previous:
        raise ValueError("not a complete PDF: no startxref")
    base = int(reader.trailer["/Size"])  # type: ignore[call-overload]
    fixed = _template(version).render(base)
    forms = {
        _BACKGROUND: IndirectObject(base, 0, None),
        _CAPTION: IndirectObject(base + 1, 0, None),
    }
    bodies: dict[int, bytes] = {base + i: body for i, body in enumerate(fixed)}
    opening = base + len(fixed)  # one "q" stream, shared by every page
    bodies[opening] = _stream(zlib.compress(_opening(version)))
    code = opening + 1  # the QR image, on the first page only
    bodies[code], qr = qr_image(qr_text)
    number = code + 1
    for index, page in enumerate(reader.pages):
        layer, number = number, number + 1
        bodies[layer] = _stream(zlib.compress(_content(index == 0, qr, version)))
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
