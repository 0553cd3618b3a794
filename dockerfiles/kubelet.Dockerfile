# tug-kubelet: Tugboat's node agent with a containerd of its own (Debian's containerd, runc and CNI plugins) and the project's images
# Built by `make docker` (hack/docker-images.sh) from the context
# bin/docker/kubelet; nothing is pulled: the image starts FROM scratch.
FROM scratch
ARG VERSION=dev
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="tug-kubelet" \
      org.opencontainers.image.description="Tugboat's node agent with a containerd of its own (Debian's containerd, runc and CNI plugins) and the project's images" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.source="https://github.com/tugboat-sh/tugboat" \
      org.opencontainers.image.vendor="Tugboat"
# passwd and group (root, nonroot 65532), /tmp and tug-healthcheck, the probe
# the compose health checks run (a scratch image has no curl).
COPY base/ /
# Debian's containerd, containerd-shim-runc-v2, runc and the CNI bridge,
# host-local, loopback and portmap plugins with the shared libraries they
# link, at their Debian paths: the kubelet runs that containerd
# (--managed-containerd) and it runs the pods.
COPY rootfs/ /
# The project's images (make images), served to the containerd as
# tugboat.local/... by --image-archives /images.
COPY images/ /images/
COPY tug-kubelet /usr/local/bin/
# Root, and run privileged with the host's network and PID namespace: the
# kubelet makes the tug0 bridge, routes, network namespaces and mounts.
EXPOSE 10250 10248
# The component's own health endpoint at its default address (docker-compose
# sets its own checks for the addresses it configures).
HEALTHCHECK --interval=10s --timeout=3s CMD ["/usr/local/bin/tug-healthcheck", "http://127.0.0.1:10248/healthz"]
ENTRYPOINT ["/usr/local/bin/tug-kubelet"]
