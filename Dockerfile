# A slim, non-root image of the service. Workers: WEB_CONCURRENCY.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 WEB_CONCURRENCY=2 \
    YIELDGATE_VENUES_DIR=/app/examples/venues

WORKDIR /app
COPY pyproject.toml README.md ./
COPY pricing ./pricing
COPY forecasting ./forecasting
COPY optimizer ./optimizer
COPY api ./api
COPY examples ./examples
RUN pip install . && useradd --system --uid 10001 --no-create-home yieldgate

USER yieldgate
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=2s --start-period=10s --retries=3 \
  CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"
CMD ["sh", "-c", "exec yieldgate serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY}"]
