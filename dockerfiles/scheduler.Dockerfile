# tug-scheduler: Tugboat's scheduler: binds pending pods to nodes
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/scheduler; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tug-scheduler" \
      org.opencontainers.image.description="Tugboat's scheduler: binds pending pods to nodes" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
COPY tug-scheduler /usr/local/bin/
USER 65532:65532
EXPOSE 10259
# The component's own health endpoint at its default address (docker-compose
# sets its own checks for the addresses it configures).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/tug-healthcheck", "http://127.0.0.1:10259/readyz"]
ENTRYPOINT ["/usr/local/bin/tug-scheduler"]
