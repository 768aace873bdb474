"""Code 128 encoder with automatic code sets B and C.

Runs of four or more digits (or an all-digit value of even length) use code set C
(two digits per symbol); everything else uses code set B (ASCII 32–127).
Output is a module string: "1" black, "0" white, without quiet zones.
"""

from __future__ import annotations

_PATTERNS = [
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
    "2331112",
]

START_B, START_C, CODE_B, CODE_C, STOP = 104, 105, 100, 99, 106


def _widths_to_modules(widths: str) -> str:
    out = []
    for i, w in enumerate(widths):
        out.append(("1" if i % 2 == 0 else "0") * int(w))
    return "".join(out)


_MODULES = tuple(_widths_to_modules(p) for p in _PATTERNS)


def _digit_run(data: str, i: int) -> int:
    j = i
    while j < len(data) and data[j].isdigit() and data[j].isascii():
        j += 1
    return j - i


def symbols(data: str) -> list[int]:
    """Symbol values including start, check and stop."""
    if not data:
        raise ValueError("Code 128 needs at least one character")
    for ch in data:
        if not 32 <= ord(ch) <= 126:
            raise ValueError(f"Code 128 (set B) cannot encode {ch!r}")
    out: list[int] = []
    i = 0
    mode = ""
    while i < len(data):
        run = _digit_run(data, i)
        whole = i == 0 and run == len(data) and run % 2 == 0
        if run >= 4 or whole:
            take = run - run % 2
            if mode != "C":
                out.append(START_C if not out else CODE_C)
                mode = "C"
            for k in range(i, i + take, 2):
                out.append(int(data[k : k + 2]))
            i += take
            continue
        if mode != "B":
            out.append(START_B if not out else CODE_B)
            mode = "B"
        out.append(ord(data[i]) - 32)
        i += 1
    check = (out[0] + sum(pos * v for pos, v in enumerate(out[1:], start=1))) % 103
    return [*out, check, STOP]


def encode(data: str) -> str:
    """Module string for `data` (quiet zones not included)."""
    return "".join(_MODULES[s] for s in symbols(data))
