# syntax=docker/dockerfile:1

# Build a static binary: no cgo, so the runtime image needs no C library.
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, so editing the code does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -o /out/accounts ./app

# distroless/static has CA certificates and time zone data but no shell or package
# manager, and its nonroot user (65532) keeps a compromised process from owning
# the container.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/accounts /accounts
COPY config.toml /config.toml
# The shipped config listens on loopback, which nothing outside the container can
# reach. Everything else is overridden per deployment with APP_<SECTION>_<KEY>.
# 9090 is the admin listener (/metrics): publish it only to the scraper's network.
ENV APP_CONFIG=/config.toml \
    APP_HTTP_ADDR=0.0.0.0:8080 \
    APP_ADMIN_ADDR=0.0.0.0:9090
USER 65532:65532
EXPOSE 8080 9090
ENTRYPOINT ["/accounts"]
CMD ["serve"]
