# stepcheck serve: the Step Functions API (awsJson1_0) on port 8083, like Step Functions Local.
#
#   docker build -t stepcheck .
#   docker run --rm --init -p 8083:8083 stepcheck
#   docker run --rm --init -p 8083:8083 -v "$PWD/mocks.json:/mocks.json" \
#       -e SFN_MOCK_CONFIG=/mocks.json stepcheck --time real
#
# Arguments after the image name go to `stepcheck serve` (see README.md). `--init` gives the
# container an init process: stepcheck as PID 1 installs no signal handler, so without one
# `docker stop` would wait for its timeout and then kill it.

FROM rust:1-slim-bookworm AS builder
WORKDIR /src
# The whole workspace: its members name test and bench files that cargo checks for, so a
# manifests-only layer would not resolve.
COPY . .
RUN cargo build --release --locked -p stepcheck-harness --bin stepcheck \
    && strip target/release/stepcheck

FROM debian:bookworm-slim
# No TLS, no shell tools needed: the server speaks plain HTTP and reads local files only.
RUN useradd --system --uid 10001 --no-create-home stepcheck
COPY --from=builder /src/target/release/stepcheck /usr/local/bin/stepcheck
USER stepcheck
EXPOSE 8083
ENTRYPOINT ["stepcheck", "serve", "--host", "0.0.0.0"]
