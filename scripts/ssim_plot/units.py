"""Number formatting shared by the figures and the page (decimal SI prefixes)."""

from __future__ import annotations

import math

_PREFIXES = ["", "k", "M", "G", "T", "P", "E"]


def si(x: float, unit: str = "", digits: int = 3) -> str:
    """12345678 -> '12.3 M' + unit; values below 1000 keep up to `digits` significant digits."""
    if x == 0 or not math.isfinite(x):
        return f"{x:g} {unit}".strip()
    exp3 = min(max(int(math.floor(math.log10(abs(x)) / 3)), 0), len(_PREFIXES) - 1)
    scaled = x / 1000 ** exp3
    # 999.96 k would print as "1000 k": move to the next prefix.
    if round(abs(scaled), max(digits - 1 - int(math.floor(math.log10(abs(scaled)))), 0)) >= 1000 \
            and exp3 + 1 < len(_PREFIXES):
        exp3 += 1
        scaled = x / 1000 ** exp3
    mag = int(math.floor(math.log10(abs(scaled)))) if scaled != 0 else 0
    decimals = max(digits - 1 - mag, 0)
    text = f"{scaled:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} {_PREFIXES[exp3]}{unit}".strip()


def flops_per_s(x: float) -> str:
    return si(x, "FLOP/s")


def ops_per_s(x: float, unit: str = "OP") -> str:
    """A rate of operations: 'OP' for integer arrays (int8), 'FLOP' for floating-point ones."""
    return si(x, f"{unit}/s")


def op_unit(data_type: str) -> str:
    """'FLOP' for a floating-point type (fp16, bf16, fp32, float...), 'OP' for an integer one."""
    t = data_type.lower()
    return "FLOP" if t.startswith(("fp", "bf", "float", "tf", "e4m3", "e5m2")) else "OP"


def nbytes(x: float) -> str:
    return si(x, "B")


def bytes_per_s(x: float) -> str:
    return si(x, "B/s")


def count(x: int) -> str:
    """An exact integer with thin grouping: 1234567 -> '1,234,567'."""
    return f"{x:,}"


def pct(x: float, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.4321 -> '43.2 %'."""
    return f"{100.0 * x:.{decimals}f} %"


def share(x: float) -> str:
    """A fraction as a percentage for people: 0.996 -> '99.6 %', 0.0042 -> '0.42 %', 1 -> '100 %';
    never an exponent, never '1e+02 %'."""
    p = 100.0 * x
    if p == 0:
        return "0 %"
    if 99.95 <= p < 100:  # "100 %" only for all of it
        text = f"{p:.2f}" if p < 99.995 else "99.99"
    elif abs(p) >= 1:
        text = f"{p:.1f}"
    else:
        text = f"{p:.2g}" if abs(p) >= 0.01 else "<0.01"
        if "e" in text:
            text = f"{p:.4f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text} %"


def plain(x: float) -> str:
    """A ratio such as FLOPs per byte: 3 significant digits, no exponent for 1e-3 .. 1e6."""
    if x == 0:
        return "0"
    if 1e-3 <= abs(x) < 1e6:
        mag = int(math.floor(math.log10(abs(x))))
        text = f"{x:.{max(2 - mag, 0)}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return f"{x:.3g}"


def seconds(x: float) -> str:
    """12.3 ms, 4.56 s, 789 us."""
    if x == 0:
        return "0 s"
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "\u00b5s"), (1e-9, "ns")):
        if abs(x) >= scale:
            return f"{plain(x / scale)} {unit}"
    return f"{x:.3g} s"


_ENERGY_UNITS = (("pJ", 1.0), ("nJ", 1e3), ("\u00b5J", 1e6), ("mJ", 1e9), ("J", 1e12),
                 ("kJ", 1e15))


def energy_unit(pj: float) -> tuple:
    """The unit to show `pj` picojoules in: (name, picojoules per unit), 1 <= value < 1000."""
    for name, scale in _ENERGY_UNITS:
        if abs(pj) < 1000 * scale or name == "kJ":
            return name, scale
    return _ENERGY_UNITS[-1]


def energy(pj: float) -> str:
    """Picojoules in the unit that fits: 32490000000 -> '32.5 mJ'."""
    name, scale = energy_unit(pj)
    return f"{pj / scale:.3g} {name}"
