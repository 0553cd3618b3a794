# tug-controller-manager: Tugboat's controller-manager: the control loops (ReplicaSets, Deployments, Jobs, CronJobs, namespaces, garbage collection, node lifecycle and IPAM)
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/controller-manager; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tug-controller-manager" \
      org.opencontainers.image.description="Tugboat's controller-manager: the control loops (ReplicaSets, Deployments, Jobs, CronJobs, namespaces, garbage collection, node lifecycle and IPAM)" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
COPY tug-controller-manager /usr/local/bin/
USER 65532:65532
EXPOSE 10257
# The component's own health endpoint at its default address (docker-compose
# sets its own checks for the addresses it configures).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/tug-healthcheck", "http://127.0.0.1:10257/readyz"]
ENTRYPOINT ["/usr/local/bin/tug-controller-manager"]
