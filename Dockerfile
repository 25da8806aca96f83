# syntax=docker/dockerfile:1
# One image for the whole platform: the command chooses the service, e.g.
#   skaart serve fiches      skaart migrate fiches
# Runtime dependencies come pinned from deploy/requirements.lock; secrets never go in
# here (they come from Kubernetes Secrets at run time, see deploy/README.md). No extras:
# the `demo` extra (embedded broker, development mailbox) and `dev` stay out of the image.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/skaart
COPY deploy/requirements.lock deploy/requirements.lock
COPY deploy/image/install.sh deploy/image/install.sh
RUN sh deploy/image/install.sh dependencies /opt/skaart
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY servicekit servicekit
COPY skaart skaart
COPY services services
RUN sh deploy/image/install.sh application /opt/skaart

FROM ${PYTHON_IMAGE}
RUN groupadd --system --gid 10001 skaart \
    && useradd --system --uid 10001 --gid skaart --no-create-home --home-dir /nonexistent skaart
COPY --from=build /opt/skaart /opt/skaart
ENV PATH=/opt/skaart/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SKAART_ENVIRONMENT=production \
    SKAART_HTTP_HOST=0.0.0.0 \
    SKAART_HTTP_PORT=8000 \
    SKAART_DATA_DIR=/tmp/skaart
WORKDIR /tmp
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["skaart"]
CMD ["--help"]
