"""The sample city (Yiyang): its units, categories, districts and deputies, read from the fixture files."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from importlib.resources import files

from app.db import Transaction
from app.services import registry
from app.state import AppState


@dataclass
class Registry:
    """What the demo city is made of (the fixture files)."""

    units: list[dict[str, str]]
    categories: list[dict[str, str]]
    districts: list[dict[str, str]]
    deputy_phones: list[str]


def _rows(name: str) -> list[dict[str, str]]:
    with (files("app") / "fixtures" / name).open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def load_registry(state: AppState) -> tuple[Registry, registry.ImportResult]:
    """Units, categories, districts and deputies of the sample city (upserts: rerunnable)."""
    reg = Registry(_rows("units.csv"), _rows("categories.csv"), _rows("districts.csv"), [])
    now = state.clock.now()
    with Transaction(state.db.write_session) as session:
        for row in reg.units:
            registry.put_unit(
                session,
                code=row["code"],
                now=now,
                data=registry.UnitInput(name=row["name"], kind=row["kind"], district=row["district"] or None),
            )
        for row in reg.districts:
            registry.put_district(session, code=row["code"], name=row["name"], now=now)
        for row in reg.categories:
            registry.put_category(
                session,
                code=row["code"],
                now=now,
                data=registry.CategoryInput(
                    name=row["name"],
                    default_lead_unit=row["default_lead_unit"] or None,
                    committee_unit=row["committee_unit"] or None,
                ),
            )
        with (files("app") / "fixtures" / "deputies.csv").open(encoding="utf-8") as f:
            result = registry.import_deputies(session, lines=f, now=now)
    reg.deputy_phones = [row["phone"] for row in _rows("deputies.csv")]
    return reg, result
