# The Airflow 2.5.3 REST API simulator on http://0.0.0.0:8080/api/v1
#   docker build -t airflow-sim .
#   docker run --rm -p 8080:8080 airflow-sim
# Every `airflow-sim serve` flag is also an AIRFLOW_SIM_* variable
# (docker run -e AIRFLOW_SIM_SCENARIO=demo ...). .dockerignore keeps the
# build context to what the image runs: no tests, benchmarks or caches.
FROM python:3.11-slim

ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 10001 --user-group simulator

WORKDIR /app
# Dependencies first, from pyproject.toml alone: this layer is rebuilt only
# when the dependencies change, not on every source edit.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep='\n')" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY . .
# Editable: bundled scenarios and fixtures are found through simulator/bundled/,
# which links to scenarios/ and fixtures/ in the source tree. Byte-compiled
# here, as root, because the runtime user cannot write /app: without .pyc
# files every start would recompile.
RUN pip install --no-cache-dir --no-deps -e . \
    && python -m compileall -q simulator

USER simulator
EXPOSE 8080

# slim has no curl: ask the simulator's health (open even with --control-token)
# with Python on the port it serves (AIRFLOW_SIM_PORT, else 8080); non-200 or
# no answer -> unhealthy.
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; port = os.environ.get('AIRFLOW_SIM_PORT') or '8080'; sys.exit(urllib.request.urlopen(f'http://127.0.0.1:{port}/_sim/health', timeout=2).status != 200)"]

# `docker stop` sends SIGTERM: the server stops cleanly (and saves --state-file).
CMD ["airflow-sim", "serve", "--host", "0.0.0.0"]
