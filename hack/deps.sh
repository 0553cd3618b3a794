#!/usr/bin/env bash
# Installs what Tugboat's tests need from Debian's packages. Idempotent; run as
# root on Debian or Ubuntu.
#   etcd-server        an external etcd for the apiserver's --etcd-servers tests
#   containerd, runc   the container runtime the kubelet drives over CRI
#   containernetworking-plugins
#                      the CNI bridge, host-local and loopback plugins that give
#                      each pod its network namespace and address (/usr/lib/cni)
#   busybox-static     the static busybox the shell image is built from
#   nftables, iproute2 nft and ip: the end-to-end tests read the proxy's
#                      table and make network namespaces with them
#   kubernetes-client  kubectl, only when none is installed: the REST tests and
#                      the README check drive the apiserver with the real kubectl
#   docker.io, docker-compose
#                      dockerd and compose 1.29 for the deploy test (make
#                      docker, docker-compose.yml); the test starts its own
#                      dockerd and stops it by its PID
#   prometheus         the Prometheus binary that scrapes the compose cluster in
#                      the deploy test; its packaged service is stopped and
#                      disabled here, the test runs its own
set -euo pipefail

packages=(etcd-server containerd runc containernetworking-plugins busybox-static nftables iproute2 docker.io docker-compose prometheus)
command -v kubectl >/dev/null || packages+=(kubernetes-client)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all installed (${packages[*]})"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Do not let package scripts start daemons: tests start their own.
policy=/usr/sbin/policy-rc.d
cleanup_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; cleanup_policy=1
fi
trap '[ $cleanup_policy -eq 1 ] && rm -f "$policy"' EXIT
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# policy-rc.d keeps the packaged prometheus and docker services from starting
# under sysvinit; under systemd, stop and disable them: the tests run their own.
# Only the services of packages installed here: a docker or prometheus the
# host already ran is left as it was.
svcs=()
for p in "${missing[@]}"; do
  case "$p" in
    prometheus) svcs+=(prometheus) ;;
    docker.io) svcs+=(docker docker.socket) ;;
  esac
done
for svc in "${svcs[@]}"; do
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now "$svc" >/dev/null 2>&1 || true
  fi
done
echo "deps: installed ${missing[*]}"
