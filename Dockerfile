FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SUPPORTPLAN_VAR_DIR=/app/var
WORKDIR /app

COPY pyproject.toml constraints.txt README.md ./
COPY supportplan ./supportplan
COPY scope ./scope
COPY models_catalog ./models_catalog
COPY operations ./operations
RUN pip install -c constraints.txt .

COPY . .
RUN useradd --create-home --uid 1000 supportplan && mkdir -p /app/var && chown -R supportplan /app/var
USER supportplan
# collectstatic needs settings that load: a throwaway key for the build step only.
RUN DEBUG=false SECRET_KEY=build-only-not-used-at-runtime-0123456789abcdefghijklmnop ALLOWED_HOSTS=build \
    python manage.py collectstatic --noinput -v0

EXPOSE 8000
CMD ["gunicorn", "supportplan.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--worker-class", "supportplan.gunicorn_worker.SyncWorker", "--access-logfile", "-"]
