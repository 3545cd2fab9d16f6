"""Charts as inline SVG, drawn on the server (they print, and need no script): the
geometry here, the markup in templates/charts.html. A table of the same figures is always
shown beside a chart (its text alternative)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 600, 230
LEFT, RIGHT, TOP, BOTTOM = 44, 10, 12, 36


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    bars: list[dict[str, Any]]
    points: list[dict[str, Any]]
    line: str  # the polyline's points (segments broken where a month has no figure)
    ticks: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    baseline: float


def _x_slots(n: int) -> tuple[float, float]:
    inner = WIDTH - LEFT - RIGHT
    return inner / max(n, 1), LEFT


def _month_labels(months: list[str]) -> list[dict[str, Any]]:
    """M月 under each month; the year under the first month and each January."""
    slot, left = _x_slots(len(months))
    out = []
    for i, m in enumerate(months):
        x = round(left + slot * (i + 0.5), 1)
        out.append({"x": x, "y": HEIGHT - BOTTOM + 15, "text": f"{int(m[5:7])}月"})
        if i == 0 or m[5:7] == "01":
            out.append({"x": x, "y": HEIGHT - BOTTOM + 29, "text": f"{m[:4]}年"})
    return out


def bars(title: str, months: list[str], values: list[int]) -> Chart:
    """Counts per month as bars (the current month, still running, lighter)."""
    top = max(values + [1])
    step = _nice_step(top)
    scale_top = step * max(1, -(-top // step))
    slot, left = _x_slots(len(values))
    inner_h = HEIGHT - TOP - BOTTOM
    out = []
    for i, v in enumerate(values):
        h = inner_h * v / scale_top
        out.append(
            {
                "x": round(left + slot * i + slot * 0.15, 1),
                "w": round(slot * 0.7, 1),
                "y": round(HEIGHT - BOTTOM - h, 1),
                "h": round(h, 1),
                "current": i == len(values) - 1,
                "title": f"{months[i]}：{v}",
            }
        )
    ticks = [
        {"y": round(HEIGHT - BOTTOM - inner_h * k * step / scale_top, 1), "text": f"{k * step:,}"}
        for k in range(0, int(scale_top // step) + 1)
    ]
    return Chart(title, WIDTH, HEIGHT, out, [], "", ticks, _month_labels(months), HEIGHT - BOTTOM)


def rates(title: str, months: list[str], values: list[float | None]) -> Chart:
    """Rates (0..1) per month as a line with dots; months with nothing measured are gaps."""
    slot, left = _x_slots(len(values))
    inner_h = HEIGHT - TOP - BOTTOM
    points: list[dict[str, Any]] = []
    segments: list[list[str]] = []
    current: list[str] = []
    for i, v in enumerate(values):
        if v is None:
            if current:
                segments.append(current)
            current = []
            continue
        x, y = round(left + slot * (i + 0.5), 1), round(HEIGHT - BOTTOM - inner_h * v, 1)
        points.append({"x": x, "y": y, "title": f"{months[i]}：{v * 100:.1f}%"})
        current.append(f"{x},{y}")
    if current:
        segments.append(current)
    ticks = [
        {"y": round(HEIGHT - BOTTOM - inner_h * p / 100, 1), "text": f"{p}%"} for p in (0, 25, 50, 75, 100)
    ]
    line = " M ".join(" L ".join(seg) for seg in segments)
    return Chart(
        title,
        WIDTH,
        HEIGHT,
        [],
        points,
        f"M {line}" if line else "",
        ticks,
        _month_labels(months),
        HEIGHT - BOTTOM,
    )


def _nice_step(top: int) -> int:
    """A round step giving about four gridlines up to `top`."""
    raw = max(top / 4, 1)
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for m in (1, 2, 5, 10):
        if raw <= m * magnitude:
            return int(m * magnitude)
    return int(10 * magnitude)
