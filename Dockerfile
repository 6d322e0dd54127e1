# syntax=docker/dockerfile:1
# Build a static, reproducible binary (no cgo, -trimpath, the version
# stamped with -ldflags), then ship it alone with CA certificates and
# time-zone data, as a non-root user. `go version -m /passerelle` lists the
# exact modules inside (an SBOM tool reads the same).
FROM golang:1.26-bookworm AS build
ARG VERSION=devel
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w -X main.version=${VERSION}" -o /out/passerelle ./cmd/passerelle \
 && mkdir -p /out/data /out/tmp

FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/share/zoneinfo /usr/share/zoneinfo
COPY --from=build /out/passerelle /passerelle
COPY --from=build --chown=65532:65532 /out/data /data
# A writable temporary directory: `passerelle chat --temporary` keeps its
# store there.
COPY --from=build --chown=65532:65532 /out/tmp /tmp
USER 65532:65532
WORKDIR /data
ENV PASSERELLE_STORE=bolt:/data/passerelle.db \
    PASSERELLE_LISTEN=:8080 \
    TMPDIR=/tmp
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --retries=3 CMD ["/passerelle", "health"]
ENTRYPOINT ["/passerelle"]
CMD ["run"]
