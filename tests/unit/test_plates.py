"""Plate text helpers shared by the services (and the OCR benchmark)."""

from __future__ import annotations

from services.common.plates import edit_distance, normalise_plate


def test_normalise_keeps_upper_case_letters_and_digits() -> None:
    assert normalise_plate(" jlm-7605 ") == "JLM7605"


def test_edit_distance_counts_swaps_losses_and_stops_past_a_limit() -> None:
    assert edit_distance("7ABC123", "7ABC123") == 0
    assert edit_distance("7ABC123", "7ABG128") == 2
    assert edit_distance("7ABC123", "ABC123") == 1
    assert edit_distance("", "ABC") == 3
    assert edit_distance("7ABC123", "4XYZ987", limit=2) == 3  # limit + 1: at least that far apart
    assert edit_distance("AB", "ABCDEF", limit=2) == 3
