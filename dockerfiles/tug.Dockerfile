# tug: tug, Tugboat's command line
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/tug; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tug" \
      org.opencontainers.image.description="tug, Tugboat's command line" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
# The mount points of the credentials docker-compose's init-certs and
# init-kubeconfig write (tug init phase certs into pki/, tug init phase
# kubeconfig --split into <component>/), 0700 and owned by the non-root
# user (a new named volume mounted there takes this ownership and mode).
COPY --chown=65532:65532 data/ /etc/tugboat/
COPY tug /usr/local/bin/
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/tug"]
