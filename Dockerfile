# syntax=docker/dockerfile:1
# The flowgate image: a release build in the official Rust image, run by an unprivileged
# user on Debian slim, with the data folder as a volume. Configure it with the same
# environment variables as the binary (n8n's names); see README "Docker".
#
#   docker build --build-arg FLOWGATE_GIT_REVISION=$(git rev-parse --short HEAD) -t flowgate .
#
# .ci/container-check.sh builds and runs the binary the way this file does (same build
# command, same user, environment and read-only layout), since CI has no Docker engine.

ARG RUST_VERSION=1.95
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# The build context carries no .git (see .dockerignore), so the revision that
# `flowgate --version` prints comes in as a build argument.
ARG FLOWGATE_GIT_REVISION=unknown
ENV FLOWGATE_GIT_REVISION=${FLOWGATE_GIT_REVISION}
COPY . .
# Cache mounts keep downloaded crates and compiled dependencies between builds. The target
# folder is a cache mount, invisible to the next stage, so the binary is copied out of it.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
 && install -D -m 0755 target/release/flowgate /out/flowgate

# Same Debian release as the build image, so the binary finds the glibc it was linked with.
FROM debian:${DEBIAN_RELEASE}-slim
# A numeric uid/gid that matches no host or base-image account; numeric in USER so that
# orchestrators can verify runAsNonRoot. --no-log-init: no sparse lastlog entry (a 3 MB
# layer for uid 10001 otherwise).
RUN groupadd --system --gid 10001 flowgate \
 && useradd --system --no-log-init --uid 10001 --gid 10001 --home-dir /data \
      --no-create-home --shell /usr/sbin/nologin flowgate \
 && install -d -o 10001 -g 10001 -m 0700 /data
COPY --from=build /out/flowgate /usr/local/bin/flowgate
# Inside a container the server must accept connections from other containers and the
# host, hence 0.0.0.0 (the binary's own default is loopback). Data (SQLite file, generated
# encryption key) goes to /data/.n8n.
ENV N8N_LISTEN_ADDRESS=0.0.0.0 \
    N8N_PORT=5678 \
    N8N_USER_FOLDER=/data
VOLUME ["/data"]
EXPOSE 5678
USER 10001:10001
WORKDIR /data
# The binary probes itself: the image needs no curl or wget.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/flowgate", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/flowgate"]
CMD ["start"]
