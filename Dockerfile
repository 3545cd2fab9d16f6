# The official python:3.11-slim-bookworm as Docker Hub listed it in late September 2026
# (then Python 3.11.16), pinned by the digest of its multi-platform index: the tag is for
# people, the digest is what is pulled. (Taken from public records; no registry is reachable
# where this was written.) Bump both together, deliberately, with the digest from
#   docker buildx imagetools inspect python:3.11-slim-bookworm
ARG PYTHON_IMAGE=python:3.11.16-slim-bookworm@sha256:a36c24f9cbdf4fd0f52d67f0823eeac19c2028c637cecc392d97f980d4fec56b

# The project's wheel, built with the locked build backend.
FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY scripts/image-install /usr/local/bin/image-install
COPY requirements-build.lock ./
COPY pyproject.toml alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN image-install wheel requirements-build.lock /src /wheels

FROM ${PYTHON_IMAGE}
# pg_dump and pg_restore for `hotline backup`/`restore`: Debian bookworm's 15, the major of
# the PostgreSQL that docker-compose.yml runs. Not pinned to a minor version on purpose: the
# archive drops superseded versions, and these are security updates (README says so).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 hotline && useradd --uid 10001 --gid 10001 --create-home hotline
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1

# Dependencies first, a layer of their own: rebuilt only when the lock file changes.
COPY scripts/image-install /usr/local/bin/image-install
COPY requirements.lock /tmp/requirements.lock
RUN image-install deps /tmp/requirements.lock /opt/venv && rm /tmp/requirements.lock

# Then the code.
COPY --from=wheel /wheels /tmp/wheels
RUN image-install app /opt/venv /tmp/wheels/*.whl && rm -rf /tmp/wheels

# The working folder belongs to the service's user: the SQLite file (when DATABASE_URL is
# left to its default), backups and `hotline report ... -o file` are written here.
WORKDIR /srv/hotline
RUN mkdir -p /srv/hotline/data && chown -R 10001:10001 /srv/hotline
USER 10001:10001
ENV DATABASE_URL=sqlite:////srv/hotline/data/hotline.db HOTLINE_DOCS=off
EXPOSE 8000
# Ready = the database answers and the schema is this release's (or a newer one's). The
# start period covers migrating a large database at first start (README "Upgrading").
HEALTHCHECK --interval=15s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]
