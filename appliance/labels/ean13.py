"""EAN-13 encoder: 12 digits get their check digit computed, 13 digits are verified."""

from __future__ import annotations

_L = ("0001101", "0011001", "0010011", "0111101", "0100011", "0110001", "0101111", "0111011", "0110111", "0001011")
_R = tuple("".join("1" if b == "0" else "0" for b in code) for code in _L)
_G = tuple(code[::-1] for code in _R)
_PARITY = ("LLLLLL", "LLGLGG", "LLGGLG", "LLGGGL", "LGLLGG", "LGGLLG", "LGGGLL", "LGLGLG", "LGLGGL", "LGGLGL")


def check_digit(digits12: str) -> int:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits12))
    return (10 - total % 10) % 10


def normalize(data: str) -> str:
    """The full 13-digit number, or ValueError naming what is wrong."""
    if not data.isascii() or not data.isdigit() or len(data) not in (12, 13):
        raise ValueError("EAN-13 needs 12 or 13 digits")
    expected = check_digit(data[:12])
    if len(data) == 13 and int(data[12]) != expected:
        raise ValueError(f"bad EAN-13 check digit {data[12]} (expected {expected})")
    return data[:12] + str(expected)


def encode(data: str) -> str:
    digits = normalize(data)
    parity = _PARITY[int(digits[0])]
    left = "".join((_L if p == "L" else _G)[int(d)] for p, d in zip(parity, digits[1:7], strict=True))
    right = "".join(_R[int(d)] for d in digits[7:])
    return f"101{left}01010{right}101"
