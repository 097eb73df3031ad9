"""How money reads, everywhere in capacity/review and the CLI: one formatter per shape."""

from __future__ import annotations


def dollars(value: float, signed: bool = False) -> str:
    """$1,234 or -$1,234, whole dollars; with `signed`, +$1,234 (and $0 for nothing)."""
    rounded = round(value)
    sign = "-" if rounded < 0 else ("+" if signed and rounded > 0 else "")
    return f"{sign}${abs(rounded):,.0f}"


def compact(value: float, signed: bool = False) -> str:
    """$1.2M, -$45.6K, $999: three significant digits; with `signed`, +$1.2M."""
    size, unit, a = 1.0, "", abs(value)
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K"), (1.0, "")):
        if a >= size * 0.9995:
            break
    text = f"{a / size:.3g}" if a >= 1 else f"{a:.2g}"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else ("-" if value < 0 else "")
    return f"{sign}${text}{unit}"


def price_text(value: float) -> str:
    """A price per GPU-hour: $2.40, or every digit the plan gave ($2.375)."""
    return f"${value:.2f}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"${value:g}"


def cents(value: float) -> float:
    """A money figure as a JSON number: rounded to the cent."""
    return round(value, 2)
