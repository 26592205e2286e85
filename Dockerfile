# The Airflow 2.5.3 REST API simulator on http://0.0.0.0:8080/api/v1
#   docker build -t airflow-sim .
#   docker run --rm -p 8080:8080 airflow-sim
# Every `airflow-sim serve` flag is also an AIRFLOW_SIM_* variable
# (docker run -e AIRFLOW_SIM_SCENARIO=demo ...).
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group simulator

WORKDIR /app
COPY . .
# Editable: bundled scenarios and fixtures are found through simulator/bundled/,
# which links to scenarios/ and fixtures/ in the source tree. Byte-compiled
# here, as root, because the runtime user cannot write /app: without .pyc
# files every start would recompile.
RUN pip install --no-cache-dir -e . \
    && python -m compileall -q simulator

USER simulator
EXPOSE 8080

# slim has no curl: ask the simulator's health (open even with --control-token)
# with Python (non-200 or no answer -> unhealthy).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/_sim/health', timeout=2).status != 200)"]

# `docker stop` sends SIGTERM: the server stops cleanly (and saves --state-file).
CMD ["airflow-sim", "serve", "--host", "0.0.0.0"]
