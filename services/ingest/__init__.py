"""Ingest: accept frames from cameras, validate them, keep the image, queue it for OCR."""
