# tug-apiserver: Tugboat's API server: gRPC and Kubernetes-style REST on one port, etcd embedded or external
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/apiserver; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tug-apiserver" \
      org.opencontainers.image.description="Tugboat's API server: gRPC and Kubernetes-style REST on one port, etcd embedded or external" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
# Data under /var/lib/tugboat, owned by the non-root user (a new named volume
# mounted there takes this ownership).
COPY --chown=65532:65532 data/ /var/lib/tugboat/
COPY tug-apiserver /usr/local/bin/
USER 65532:65532
EXPOSE 6443
# The component's own health endpoint at its default address (docker-compose
# sets its own checks for the addresses it configures).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/tug-healthcheck", "http://127.0.0.1:6443/readyz"]
ENTRYPOINT ["/usr/local/bin/tug-apiserver"]
