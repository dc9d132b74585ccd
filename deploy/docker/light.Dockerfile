# syntax=docker/dockerfile:1.7
# The light image: ingest, enrich, store, the edge agent and the `cardak` command (migrations, prune, health),
# without PyTorch. One image, the service chosen by its command:
#
#   docker buildx build --platform linux/amd64,linux/arm64 -f deploy/docker/light.Dockerfile \
#       -t ghcr.io/OWNER/cardak:0.1.0 --push .
#   docker run --rm -e CARDAK_INGEST_ADDR=0.0.0.0:50051 -e CARDAK_SERVICE=ingest cardak serve ingest

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/cardak
ENV PATH=/opt/cardak/bin:$PATH
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY protos protos
COPY cardak cardak
COPY sentinel sentinel
COPY services services
# A regular (not editable) install: grpcio-tools generates the cardak.v1 stubs at build time.
RUN pip install ".[edge]" && python -c "import cardak.v1.store_pb2, services.store.schema, edge.agent"

FROM python:3.11-slim
RUN useradd --system --uid 10001 --create-home --home-dir /home/cardak cardak
COPY --from=build /opt/cardak /opt/cardak
ENV PATH=/opt/cardak/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    CARDAK_HOME=/tmp/cardak
USER 10001:10001
WORKDIR /home/cardak
# The root filesystem can be read-only: nothing is written outside /tmp (mount a tmpfs there).
EXPOSE 50051 50053 50054 9100
HEALTHCHECK --interval=10s --timeout=4s --start-period=30s --retries=3 CMD ["cardak", "health"]
ENTRYPOINT ["cardak"]
CMD ["serve", "ingest"]
