# Switchboard: `switchboard serve` (HTTP mode) on $PORT, as a non-root user.
#   docker build -t switchboard .
#   docker run --env-file .env -p 3000:3000 switchboard
# Socket Mode instead: docker run --env-file .env switchboard socket
# Production setup (PostgreSQL, replicas, backups, upgrades): docs/operations.md
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /src
COPY pyproject.toml README.md ./
COPY switchboard ./switchboard
RUN pip install . && rm -rf /src

RUN useradd --create-home --uid 10001 switchboard \
    && mkdir /home/switchboard/data && chown switchboard /home/switchboard/data
USER switchboard
WORKDIR /home/switchboard

# SQLite in a volume for a single replica; set DATABASE_URL to PostgreSQL for production.
ENV PORT=3000 \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite:////home/switchboard/data/switchboard.db
VOLUME ["/home/switchboard/data"]
EXPOSE 3000

# 200 when the process answers and the database does; 503 (so, unhealthy) otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT', '3000'), timeout=4)"

ENTRYPOINT ["switchboard"]
CMD ["serve", "--front"]
