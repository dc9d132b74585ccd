"""OCR: read licence plates from queued images (EasyOCR on PyTorch, GPU when present)."""
