"""Enrich: from a plate to a vehicle profile, through pluggable providers."""
