# syntax=docker/dockerfile:1
#
# One image holds every Herald command, built as static binaries (no cgo: the SQLite ledger
# is pure Go), on distroless's static base as a non-root user. docker-compose.yml picks the
# command of each service with `entrypoint`; without one the image runs the whole fleet in
# one process (`herald`, embedded NATS and SQLite under /var/lib/herald).
#
#   docker build -t herald .
#   docker run --rm -p 8080:8080 -e NOTIFICATIONS_WEBHOOK_ENABLED=true ... herald
#
# There is no HEALTHCHECK: the base has no shell and no HTTP client, and Herald's binaries
# have no health subcommand. Prometheus watches every process (`up`, the HeraldProcessDown
# alert) and compose restarts a process that exits. deploy/deploy_test.go checks that every
# command docker-compose.yml runs is built here.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# The commands the image ships, one ./cmd/<name> each: deploy's tests fail until every
# command of cmd/ but the benchmark and the fault suite is here.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/bin/ \
        ./cmd/herald \
        ./cmd/dispatcher \
        ./cmd/channel-worker \
        ./cmd/publisher-sdk \
        ./cmd/heraldctl \
        ./cmd/webhook-echo \
        ./cmd/spot-monitor
# The data directory of the single-process default, owned by distroless's nonroot user.
RUN mkdir -p /out/data && chown 65532:65532 /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bin/ /usr/local/bin/
COPY --from=build --chown=65532:65532 /out/data /var/lib/herald
ENV NOTIFICATIONS_DATA_DIR=/var/lib/herald
USER nonroot
WORKDIR /var/lib/herald
# 8080: herald and dispatcher (API, /metrics, /healthz); 8081: channel-worker.
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/herald"]
