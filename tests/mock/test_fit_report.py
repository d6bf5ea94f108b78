"""FitReport arithmetic, printing and JSON, without a device."""

from __future__ import annotations

import json

from pytest_ttpose.mock import FitReport


def report(resident: int, total: int, bank: int = 1000) -> FitReport:
    return FitReport(
        peak_cb=total // 2,
        peak_l1=total - total // 2,
        peak_total=total,
        resident_l1=resident,
        bank_size=bank,
        num_banks=4,
    )


def test_fits_counts_what_was_resident_before_the_work() -> None:
    assert report(resident=0, total=1000).fits
    assert not report(resident=1, total=1000).fits
    assert report(resident=400, total=600).required == 1000


def test_text_names_the_verdict_and_the_numbers() -> None:
    text = str(report(resident=100, total=1000, bank=1000))
    assert "DOES NOT FIT" in text and "1,100 B of 1,000 B" in text
    assert str(report(resident=0, total=10)).endswith(": fits")


def test_json_round_trips_with_the_derived_fields() -> None:
    data = json.loads(report(resident=10, total=90, bank=200).to_json())
    assert data == {
        "peak_cb": 45,
        "peak_l1": 45,
        "peak_total": 90,
        "resident_l1": 10,
        "bank_size": 200,
        "num_banks": 4,
        "required": 100,
        "utilisation": 0.5,
        "fits": True,
    }
