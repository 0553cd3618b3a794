# prometheus: Prometheus from Debian's prometheus package, to scrape the Tugboat components
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/prometheus; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="prometheus" \
      org.opencontainers.image.description="Prometheus from Debian's prometheus package, to scrape the Tugboat components" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
# Debian's /usr/bin/prometheus with the shared libraries it links. Mount the
# scrape configuration (charts/tugboat renders it) and give --config.file.
COPY rootfs/ /
# Data under /var/lib/tugboat, owned by the non-root user (a new named volume
# mounted there takes this ownership).
COPY --chown=65532:65532 data/ /var/lib/tugboat/
USER 65532:65532
EXPOSE 9090
# The component's own health endpoint at its default address (docker-compose
# sets its own checks for the addresses it configures).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/tug-healthcheck", "http://127.0.0.1:9090/-/ready"]
ENTRYPOINT ["/usr/bin/prometheus"]
