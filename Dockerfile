FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 hotline
COPY --from=build /install /usr/local
WORKDIR /srv
RUN mkdir -p /srv/data && chown hotline /srv/data
USER hotline
ENV DATABASE_URL=sqlite:////srv/data/hotline.db
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["hotline", "serve", "--host", "0.0.0.0", "--port", "8000"]
