# A BigchainDB node.
#
#   docker build -t bigchaindb .
#   docker run -p 9984:9984 bigchaindb              # `bigchaindb start`
#   docker run bigchaindb show-config               # any other CLI command
#
# The node runs as the unprivileged user "bigchaindb" whose home,
# /var/lib/bigchaindb, holds everything it writes: the config file `start`
# creates on first run (~/.bigchaindb, a new keypair) and the embedded
# store.  Mount a volume there to keep the node's identity and data across
# containers.  docker-compose.yml runs a federation of three on RethinkDB.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_PROJECT_ENVIRONMENT=/opt/bigchaindb \
    UV_NO_CACHE=1 \
    PATH=/opt/bigchaindb/bin:$PATH

WORKDIR /usr/src/bigchaindb

# The same install as ./dev and CI: uv, at the version uv.lock pins, syncs
# exactly the locked versions (hashes checked).  Dependencies first, from the
# packaging files alone: this layer is rebuilt when they change, not on every
# edit of the source.
ARG UV_VERSION=0.13.9
COPY pyproject.toml uv.lock ./
RUN pip install "uv==${UV_VERSION}" \
    && uv sync --locked --no-dev --no-install-project --compile-bytecode

# Then the node itself (not editable: the image has no use for the source tree).
COPY . .
RUN uv sync --locked --no-dev --no-editable --compile-bytecode

RUN groupadd --system --gid 10001 bigchaindb \
    && useradd --system --uid 10001 --gid bigchaindb --home-dir /var/lib/bigchaindb \
        --shell /usr/sbin/nologin bigchaindb \
    && install -d -m 0750 -o bigchaindb -g bigchaindb /var/lib/bigchaindb
USER 10001:10001
WORKDIR /var/lib/bigchaindb

# Listen on every interface of the container (the default, localhost, is
# unreachable from outside it).  An environment variable wins over the
# config file; override it with `docker run -e`.
ENV BIGCHAINDB_SERVER_BIND=0.0.0.0:9984
EXPOSE 9984
# the event streams (streams.bind: the API's host, on the next port)
EXPOSE 9985

# Healthy when GET /health answers 200 on the port the node binds: its store
# answers and every stage is alive and keeping up (docs/operating.md); a 503
# names what is wrong (`docker inspect` shows it).  No curl in the slim
# image, hence Python.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; port = os.environ.get('BIGCHAINDB_SERVER_BIND', ':9984').rsplit(':', 1)[1]; urllib.request.urlopen(f'http://127.0.0.1:{port}/health', timeout=4)"]

ENTRYPOINT ["bigchaindb"]
CMD ["start"]
