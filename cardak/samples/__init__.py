"""Sample images the project makes itself: a rendered plate on a photo-like background."""

from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parent
SAMPLE_IMAGE = SAMPLE_DIR / "plate.jpg"
SAMPLE_PLATE = "CDK4217"
# The demo's fleet file: the operator's own vehicles, here the sample's plate.
SAMPLE_FLEET = SAMPLE_DIR / "fleet.csv"
