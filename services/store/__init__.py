"""Store: the sightings database, with search and live watch."""
