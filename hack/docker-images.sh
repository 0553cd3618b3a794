#!/usr/bin/env bash
# make docker: builds the container images from dockerfiles/ with the local
# docker daemon. Each image gets a context of its own under bin/docker/<name>
# holding only what its Dockerfile copies: the static binaries `make build`
# wrote to bin/, a tiny base (passwd, group, /tmp, the data dirs owned by the
# non-root user 65532), and for the kubelet, etcd and Prometheus the files of
# Debian's packages (containerd, runc, the CNI plugins, etcd, prometheus) with
# the shared libraries they link. Nothing is pulled from a registry: every
# Dockerfile starts FROM scratch.
#   hack/docker-images.sh VERSION NAME...
set -euo pipefail
cd "$(dirname "$0")/.."
version=$1; shift
if ! docker version >/dev/null 2>&1; then
  echo "docker-images: no docker daemon answers at ${DOCKER_HOST:-unix:///var/run/docker.sock}: start one" \
    "(the docker service, or hack/dockerd.sh start DIR and DOCKER_HOST=unix://DIR/docker.sock)" >&2
  exit 1
fi
revision=$(git rev-parse HEAD 2>/dev/null || echo unknown)
created=$(date -u +%Y-%m-%dT%H:%M:%SZ)
nonroot=65532

# base DIR: the files every image starts from.
base() {
  local d=$1/base
  mkdir -p "$d/etc" "$d/tmp" "$d/usr/local/bin" "$1/data"
  chmod 1777 "$d/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n' $nonroot $nonroot >"$d/etc/passwd"
  printf 'root:x:0:\nnonroot:x:%d:\n' $nonroot >"$d/etc/group"
  cp bin/tug-healthcheck "$d/usr/local/bin/"
}

# host_files DIR FILE...: the files (Debian's packages) with the shared
# libraries and loader they need, at their own paths under DIR/rootfs.
host_files() {
  local d=$1/rootfs; shift
  local f lib
  for f in "$@"; do
    [ -e "$f" ] || { echo "docker-images: $f is missing: run make deps" >&2; exit 1; }
    mkdir -p "$d$(dirname "$f")"
    cp -L "$f" "$d$f"
    # ldd prints "name => /path (addr)" and "/lib64/ld-linux... (addr)".
    for lib in $(ldd "$f" 2>/dev/null | grep -o '/[^ ]*' || true); do
      mkdir -p "$d$(dirname "$lib")"
      cp -L "$lib" "$d$lib"
    done
  done
}

# need FILE...: the project's files, and its binaries static (a scratch
# image has no libc for them).
need() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || { echo "docker-images: $f is missing: run make build images" >&2; exit 1; }
    case $f in
      bin/tug*) if ldd "$f" >/dev/null 2>&1; then
          echo "docker-images: $f is dynamically linked: build it with CGO_ENABLED=0 (make build)" >&2; exit 1
        fi ;;
    esac
  done
}

for name in "$@"; do
  ctx=bin/docker/$name
  rm -rf "$ctx"; mkdir -p "$ctx"
  need bin/tug-healthcheck
  base "$ctx"
  case $name in
    tug)
      # The mount points of the compose credentials volumes (the pki
      # volume, one per component), 0700 and the non-root user's: a new
      # named volume mounted there takes them.
      mkdir -m 0700 "$ctx"/data/{pki,pki/etcd,admin,scheduler,controller-manager,proxy,dns,kubelet}
      need bin/tug; cp bin/tug "$ctx/" ;;
    kubelet)
      need bin/tug-kubelet bin/images/pause.tar
      cp bin/tug-kubelet "$ctx/"
      mkdir -p "$ctx/images"; cp bin/images/*.tar "$ctx/images/"
      host_files "$ctx" /usr/bin/containerd /usr/bin/containerd-shim-runc-v2 /usr/sbin/runc \
        /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback /usr/lib/cni/portmap ;;
    etcd)
      host_files "$ctx" /usr/bin/etcd ;;
    prometheus)
      host_files "$ctx" /usr/bin/prometheus ;;
    *)
      need "bin/tug-$name"; cp "bin/tug-$name" "$ctx/" ;;
  esac
  echo "docker build tugboat.local/$name:$version"
  if ! out=$(docker build -f "dockerfiles/$name.Dockerfile" \
    --build-arg "VERSION=$version" --build-arg "REVISION=$revision" --build-arg "CREATED=$created" \
    -t "tugboat.local/$name:$version" -t "tugboat.local/$name:latest" "$ctx" 2>&1); then
    echo "$out" >&2; exit 1
  fi
done
