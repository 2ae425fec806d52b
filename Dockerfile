# syntax=docker/dockerfile:1
#
# passgw container image: a static binary on a minimal non-root runtime.
#
#   docker build -t passgw --build-arg VERSION=$(git describe --always) .
#   docker run -p 8080:8080 passgw                       # the embedded sandbox
#   docker run -p 8080:8080 -v $PWD/passgw.yaml:/etc/passgw/passgw.yaml:ro \
#     -e PASSGW_SOFTWARE_STATEMENT_REF30=... passgw      # a real upstream
#
# The runtime image has no shell and no curl: the HEALTHCHECK runs the
# binary's own healthcheck subcommand against /readyz.

FROM golang:1.26 AS build
WORKDIR /src
# Dependencies first, so that source edits reuse the module cache layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/passgw ./cmd/passgw

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/passgw /usr/local/bin/passgw
COPY passgw.example.yaml /etc/passgw/passgw.yaml
USER nonroot:nonroot
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/passgw", "healthcheck", "--gateway", "http://127.0.0.1:8080", "--timeout", "4s"]
ENTRYPOINT ["/usr/local/bin/passgw"]
CMD ["serve", "--config", "/etc/passgw/passgw.yaml", "--addr", "0.0.0.0:8080"]
