# etcd: etcd from Debian's etcd-server package, for the apiserver's --etcd-servers
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/etcd; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="etcd" \
      org.opencontainers.image.description="etcd from Debian's etcd-server package, for the apiserver's --etcd-servers" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
# Debian's /usr/bin/etcd with the shared libraries it links.
COPY rootfs/ /
# Data under /var/lib/tugboat, owned by the non-root user (a new named volume
# mounted there takes this ownership).
COPY --chown=65532:65532 data/ /var/lib/tugboat/
USER 65532:65532
EXPOSE 2379 2380
ENTRYPOINT ["/usr/bin/etcd"]
