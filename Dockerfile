# One image holding the rgsweep binary (coordinator, worker and client in one).
#   docker build -t rgsweep:latest .
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin rgsweep

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /data rgsweep \
    && mkdir -p /data && chown rgsweep /data
COPY --from=build /src/target/release/rgsweep /usr/local/bin/rgsweep
USER rgsweep
WORKDIR /data
ENTRYPOINT ["/usr/local/bin/rgsweep"]
CMD ["--help"]
