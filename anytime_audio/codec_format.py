"""The ``.ata`` container: header, layer table with checks, payload; cutting without the model.

:mod:`anytime_audio.codec` writes and reads these files; everything here works
on bytes alone (no model), so ``truncate`` needs nothing else.

File format (version 1, little-endian)
--------------------------------------
========  =====  =========================================================
bytes     type   field
========  =====  =========================================================
0-3       4s     magic ``b"ATAC"``
4         u8     version (1)
5-12      8s     model fingerprint: SHA-256 over the SHA-256 of the
                 autoencoder's ``checkpoint.pt`` and of the prior's, first 8
                 bytes; a stream is never decoded by another model
13        u8     prior: 0 = causal transformer, 1 = ARDM
14        u8     flags: bit 0 = layer sizes listed in the table (otherwise
                 the even split of ``L`` codes into ``layers_total`` layers)
15-18     u32    sample rate
19-22     u32    clip length in samples (decompress trims to it)
23-24     u16    ``L``, codes per clip
25-28     u32    ``K``, codebook size
29-30     i16    class label the prior was conditioned on (-1: none)
31-32     u16    layers of the full encoding
33-34     u16    layers in this file (a cut file holds fewer)
35-36     u16    CRC-16/CCITT (initial 0xFFFF) of the payload in this file
37-       table  per layer in this file: [codes, LEB128, if flags bit 0]
                 [bytes, LEB128] [CRC-8 of the layer's codes, each code
                 as a little-endian u32]
then      u32    CRC-32 of everything above (header and table)
then      bytes  the payload: the layers' bytes, in order, one range-coded
                 stream (a cut file's payload is a prefix of the full one)
========  =====  =========================================================

A file declares how many layers it holds. :func:`cut` (``anytime-audio
truncate``) rewrites the header and table and keeps a byte prefix of the
payload, so a cut file is a complete file; a file cut short by other means (a
partial copy) is reported as truncated inside the layer where it ends. The
fixed part costs 41 bytes (with the CRC-32).

Checks: the CRC-32 guards the header and table, the CRC-16 the payload (both
are rewritten by :func:`cut`), and a CRC-8 (polynomial 0x07) per layer the
codes the layer decodes to. The code checks catch what byte checks cannot: a
decoder whose float results differ from the encoder's (another machine or
torch build) reads intact bytes into other codes; that is reported, never
rendered. They also name the layer where a damaged payload first goes wrong
(a damaged byte changes the codes of its own and every later layer). One byte
per layer keeps the table small: 2 bytes per layer, 3 with listed sizes.
Errors are one line naming the file and the problem (:class:`CodecError`, a
``ValueError``).
"""

from __future__ import annotations

import binascii
import logging
import struct
import zlib
from dataclasses import dataclass, replace

import numpy as np

from anytime_audio.core.ardm_schedule import even_schedule
from anytime_audio.core.budget import parse_budgets

log = logging.getLogger(__name__)

MAGIC, VERSION, SUFFIX = b"ATAC", 1, ".ata"
PRIORS = ("transformer", "ardm")
_FIXED = struct.Struct("<4sB8sBBIIHIhHHH")
FIXED_BYTES = _FIXED.size + 4  # the fixed header and the CRC-32; the table adds 2-3 bytes per layer
_LISTED = 1


class CodecError(ValueError):
    """A codec file that cannot be decoded: foreign, damaged, truncated, or for another model."""


# ------------------------------------------------------------------ checks
def _crc8_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = ((crc << 1) ^ 0x07) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
        table.append(crc)
    return table


_CRC8 = _crc8_table()


def crc8(data: bytes) -> int:
    """CRC-8 (polynomial 0x07, initial value 0)."""
    crc = 0
    for byte in data:
        crc = _CRC8[crc ^ byte]
    return crc


def code_check(codes) -> int:
    """CRC-8 of codes, each as a little-endian u32."""
    return crc8(np.asarray(codes, dtype="<u4").tobytes())


def payload_check(payload: bytes) -> int:
    """CRC-16/CCITT (initial value 0xFFFF) of the payload."""
    return binascii.crc_hqx(bytes(payload), 0xFFFF)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


# ------------------------------------------------------------------ container
@dataclass(frozen=True)
class Header:
    """Everything a ``.ata`` file says about its clip, and its layer table."""

    fingerprint: bytes
    prior: str
    sample_rate: int
    num_samples: int
    length: int
    num_codes: int
    label: int
    layers_total: int
    sizes: tuple[int, ...]          # codes per layer in this file
    layer_bytes: tuple[int, ...]    # payload bytes per layer
    code_checks: tuple[int, ...]    # CRC-8 of each layer's codes
    listed: bool = True             # sizes stored in the table (else the even split)

    @property
    def codes(self) -> int:
        return sum(self.sizes)


def pack(header: Header, payload: bytes) -> bytes:
    """The file bytes for ``header`` and ``payload``."""
    fixed = _FIXED.pack(MAGIC, VERSION, header.fingerprint, PRIORS.index(header.prior),
                        _LISTED if header.listed else 0, header.sample_rate, header.num_samples, header.length,
                        header.num_codes, header.label, header.layers_total, len(header.sizes),
                        payload_check(payload))
    table = bytearray()
    for size, nbytes, check in zip(header.sizes, header.layer_bytes, header.code_checks):
        table += (_varint(size) if header.listed else b"") + _varint(nbytes) + bytes([check])
    head = fixed + bytes(table)
    return head + struct.pack("<I", zlib.crc32(head)) + bytes(payload)


def parse(data: bytes, name: str = "<bytes>", verify_payload: bool = True) -> tuple[Header, bytes]:
    """``(header, payload)`` of a file, with every check that needs no model; raises :class:`CodecError`.

    ``verify_payload=False`` leaves the payload's CRC to the caller (:func:`payload_intact`),
    which can then decode to name the layer where a damaged payload goes wrong.
    """
    data = bytes(data)
    if data[:4] != MAGIC:
        raise CodecError(f"{name}: not an anytime-audio codec file (no {MAGIC.decode()} magic number)")
    if len(data) < _FIXED.size + 4:
        raise CodecError(f"{name}: truncated inside its header ({len(data)} bytes)")
    (_, version, fingerprint, prior, flags, rate, samples, length, num_codes, label, total,
     present, pcheck) = _FIXED.unpack_from(data)
    if version != VERSION:
        raise CodecError(f"{name}: codec format version {version}; this anytime_audio reads version {VERSION}")
    pos, sizes, nbytes, checks = _FIXED.size, [], [], []

    def varint() -> int:
        nonlocal pos
        value, shift = 0, 0
        while True:
            if pos >= len(data):
                raise CodecError(f"{name}: truncated inside its layer table")
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80 or shift > 63:
                return value

    def byte() -> int:
        nonlocal pos
        if pos >= len(data):
            raise CodecError(f"{name}: truncated inside its layer table")
        pos += 1
        return data[pos - 1]

    listed = bool(flags & _LISTED)
    for _ in range(present):
        sizes.append(varint() if listed else 0)
        nbytes.append(varint())
        checks.append(byte())
    if pos + 4 > len(data):
        raise CodecError(f"{name}: truncated inside its layer table")
    if struct.unpack_from("<I", data, pos)[0] != zlib.crc32(data[:pos]):
        raise CodecError(f"{name}: header damaged (CRC-32 mismatch)")
    if prior >= len(PRIORS) or not 1 <= present <= total <= length or num_codes < 1:
        raise CodecError(f"{name}: header holds impossible values (damaged or not written by anytime-audio)")
    if not listed:
        sizes = even_schedule(length, total)[:present]
    if min(sizes) < 1 or sum(sizes) > length:
        raise CodecError(f"{name}: layer table holds impossible sizes (damaged)")
    payload = data[pos + 4:]
    header = Header(fingerprint, PRIORS[prior], rate, samples, length, num_codes, label, total, tuple(sizes),
                    tuple(nbytes), tuple(checks), listed)
    start = 0
    for j, n in enumerate(nbytes):
        if start + n > len(payload):
            raise CodecError(f"{name}: truncated inside layer {j + 1} of {present} ({max(0, len(payload) - start)} "
                             f"of its {n} bytes); cut files with `anytime-audio truncate`")
        start += n
    if len(payload) > start:
        raise CodecError(f"{name}: {len(payload) - start} bytes after the last layer (damaged file)")
    if verify_payload and payload_check(payload) != pcheck:
        raise CodecError(f"{name}: payload damaged (CRC-16 mismatch)")
    return header, payload


def payload_intact(data: bytes, payload: bytes) -> bool:
    """Whether ``payload`` (from :func:`parse` of ``data``) matches the CRC-16 in ``data``'s header."""
    return payload_check(payload) == _FIXED.unpack_from(data)[-1]


def cut(data: bytes, budget, name: str = "<bytes>", warn: bool = True) -> bytes:
    """The file cut to the most whole layers whose codes fit ``budget`` (``0.25``, ``"25%"``, ``16``).

    No model and no re-encoding: the header and table are rewritten and the
    payload keeps its prefix. At least the first layer is kept (with a warning
    when it holds more codes than the budget, unless ``warn=False``).
    """
    header, payload = parse(data, name)
    parsed = one_budget(budget)
    if parsed.is_deadline:
        raise ValueError(f"budget: a deadline ({parsed.text}) means nothing to truncate; give a fraction, "
                         f"a percentage or a code count")
    want = parsed.num_codes(header.length)
    ends = np.cumsum(header.sizes)
    keep = max(1, int(np.searchsorted(ends, want, side="right")))
    if warn and ends[keep - 1] > want:
        log.warning("%s: budget %s (%d codes) is below the first layer (%d codes); kept that layer",
                    name, parsed.text, want, ends[0])
    smaller = replace(header, sizes=header.sizes[:keep], layer_bytes=header.layer_bytes[:keep],
                      code_checks=header.code_checks[:keep])
    return pack(smaller, payload[:sum(header.layer_bytes[:keep])])


def one_budget(budget):
    parsed = parse_budgets(budget, name="budget")
    if len(parsed) != 1:
        raise ValueError(f"budget: give one budget, got {len(parsed)}")
    return parsed[0]
