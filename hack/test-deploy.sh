#!/usr/bin/env bash
# make test-deploy: the deploy paths end to end, as root on a machine of its
# own (run it under flock /tmp/tugboat-realnode.lock on a shared one).
#  1. helm lint and helm template of charts/tugboat, and test/deploy's chart
#     and dashboard checks;
#  2. a dockerd of its own (hack/dockerd.sh: host and none networks only),
#     make docker, the external-etcd profile (etcd on TLS + apiserver, a
#     namespace lands in that etcd; plaintext, no client certificate and a
#     certificate of the cluster CA are refused), then
#     docker-compose up -d: the init services' certificates and
#     kubeconfigs, then every container healthy; each container mounts
#     only its own credentials (the pki volume only the apiserver, the
#     controller-manager only its kubeconfig and the CA pair);
#  3. with the admin kubeconfig copied out of its volume (admin-credentials), tug
#     get nodes through https://127.0.0.1:6443 shows the node Ready, seed 004's
#     deployment-09 (with the project's sise image) runs and answers;
#  4. Prometheus (the compose service: Debian's binary) has every target
#     up, and every metric the dashboards query is on the live /metrics;
#  5. a port clash fails with the component's reason;
#  6. teardown, also on failure: the kubelet stopped and its --cleanup run
#     (sandboxes, tug0, guard routes), compose down -v, dockerd stopped by
#     its PID, and a check that nothing is left.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PWD/.tools/bin:$PATH
export GOFLAGS=${GOFLAGS:--buildvcs=false}

say() { echo "test-deploy: [${SECONDS}s] $*"; }
fail() { echo "test-deploy: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "needs root (containers, the pod network)"
for c in dockerd docker docker-compose helm promtool curl; do
  command -v $c >/dev/null || fail "$c not found: run make deps (docker.io, docker-compose, prometheus) and make tools (helm)"
done
for f in bin/tug bin/tug-apiserver bin/tug-healthcheck bin/images/sise.tar; do
  [ -e $f ] || fail "$f is missing: run make build images"
done

say "helm lint and template"
helm lint --strict charts/tugboat >/dev/null
helm template tugboat charts/tugboat >/dev/null
helm template tugboat charts/tugboat -f deploy/compose-values.yaml >/dev/null
helm template tugboat charts/tugboat --set etcd.embedded=false \
  --set 'etcd.endpoints={http://etcd-0:2379}' --set apiserver.replicas=3 >/dev/null
go test -count=1 ./test/deploy/
# The compose cluster's scrape configuration, as Prometheus reads it. (The
# chart's default, Kubernetes pod discovery, cannot be checked so: Debian
# builds Prometheus without Kubernetes service discovery.)
promtool check config deploy/prometheus.yml >/dev/null

# Ports the compose cluster takes on the host: a cluster already running
# (tug up, the e2e suite) would clash.
ports=(6443 6444 10259 10257 10248 10250 10249 9153 9090 2379 2380 2381 15353)
for p in "${ports[@]}"; do
  if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then
    fail "port $p on 127.0.0.1 is taken: stop the cluster using it (tug down) first"
  fi
done
ip link show tug0 >/dev/null 2>&1 && fail "the pod bridge tug0 exists: a cluster runs on this host (tug down first)"

cgroups_before=$(ls -d /sys/fs/cgroup/*/k8s.io/* 2>/dev/null | sort || true)
docker_cgroup_existed=0; [ -d /sys/fs/cgroup/memory/docker ] && docker_cgroup_existed=1
work=$(mktemp -d /var/tmp/tugboat-deploy.XXXXXX)
export DOCKER_HOST=unix://$work/docker/docker.sock
export COMPOSE_PROJECT_NAME=tugboatdeploy
# The admin's kubeconfig, copied out of its volume (admin-credentials) once the
# init services have written it (admin_kubeconfig).
export KUBECONFIG=$work/admin.conf
# tug-dns forwards other names to a resolver the live test runs on loopback.
export TUGBOAT_DNS_UPSTREAM=127.0.0.1:15353
compose() { docker-compose -f docker-compose.yml "$@"; }

teardown() {
  local rc=$?
  set +e
  if [ $rc -ne 0 ] && [ -S "$work/docker/docker.sock" ]; then
    say "failed: the containers and their last logs"
    compose ps
    compose logs --tail=30 2>&1 | tail -120
  fi
  if [ -S "$work/docker/docker.sock" ]; then
    say "teardown: compose stop, the kubelet's and the proxy's --cleanup, compose down"
    compose stop -t 20 >/dev/null 2>&1
    compose run --rm --no-deps kubelet --cleanup --managed-containerd \
      --root-dir /var/lib/tugboat/kubelet --log-level warn >/dev/null 2>&1 ||
      echo "test-deploy: kubelet --cleanup failed" >&2
    compose run --rm --no-deps proxy --cleanup --log-level warn >/dev/null 2>&1 ||
      echo "test-deploy: proxy --cleanup failed" >&2
    compose down -v --remove-orphans -t 20 >/dev/null 2>&1
    left=$(docker ps -aq)
    [ -z "$left" ] || { echo "test-deploy: containers left: $left" >&2; docker rm -f $left >/dev/null; }
  fi
  ./hack/dockerd.sh stop "$work/docker"
  [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null && echo "test-deploy: dockerd $dockerd_pid still runs" >&2
  rm -rf "$work"
  if [ $docker_cgroup_existed -eq 0 ]; then
    rmdir /sys/fs/cgroup/*/docker 2>/dev/null
  fi
  # Nothing may be left on the host.
  local leaks=()
  ip link show tug0 >/dev/null 2>&1 && leaks+=("the tug0 bridge")
  ip route show type blackhole | grep -qE '10\.244\.0\.0/16|10\.96\.0\.0/12' && leaks+=("the guard routes")
  nft list table ip tugboat-proxy >/dev/null 2>&1 && leaks+=("the proxy's nftables table")
  [ -n "$dockerd_pid" ] && kill -0 "$dockerd_pid" 2>/dev/null && leaks+=("dockerd $dockerd_pid")
  cgroups_after=$(ls -d /sys/fs/cgroup/*/k8s.io/* 2>/dev/null | sort || true)
  new=$(comm -13 <(echo "$cgroups_before") <(echo "$cgroups_after"))
  [ -z "$new" ] || leaks+=("pod cgroups: $(echo $new | head -c 300)")
  if [ ${#leaks[@]} -gt 0 ]; then
    echo "test-deploy: FAIL: left on the host: ${leaks[*]}" >&2
    [ $rc -ne 0 ] || rc=1
  fi
  [ $rc -eq 0 ] && say "PASS" || say "FAIL"
  exit $rc
}
dockerd_pid=
trap teardown EXIT

say "dockerd (data under $work)"
./hack/dockerd.sh start "$work/docker"
dockerd_pid=$(cat "$work/docker/docker.pid")
say "make docker"
make --no-print-directory docker >/dev/null

# wait_for DESCRIPTION SECONDS COMMAND...: poll COMMAND until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || fail "$what: not after ${secs}s"
    sleep 0.5
  done
}
# The one-shot services that write the credentials, then exit 0.
oneshots=(init-certs init-kubeconfig)
all_healthy() {
  local svc id st
  for svc in $(compose config --services); do
    [ "$svc" = etcd ] && continue
    id=$(compose ps -q "$svc")
    [ -n "$id" ] || return 1
    if [[ " ${oneshots[*]} " == *" $svc "* ]]; then
      st=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' "$id")
      [ "$st" = "exited 0" ] || return 1
    else
      st=$(docker inspect -f '{{.State.Health.Status}}' "$id")
      [ "$st" = healthy ] || return 1
    fi
  done
}
# admin_kubeconfig: copy the admin's kubeconfig out of its volume
# (through the init-kubeconfig container, which mounts every credentials
# volume) to $KUBECONFIG, and check it is TLS with a client certificate.
admin_kubeconfig() {
  docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/admin/kubeconfig "$KUBECONFIG" >/dev/null
  grep -q 'server: https://127.0.0.1:6443' "$KUBECONFIG" || fail "admin.conf does not reach https://127.0.0.1:6443"
  grep -q 'client-certificate-data:' "$KUBECONFIG" || fail "admin.conf has no client certificate"
}
node_ready() { bin/tug get nodes --no-headers | grep -q ' Ready '; }
pods_running() { [ "$(bin/tug get pods -l app=sise --no-headers | grep -c ' Running ')" -eq 2 ]; }

say "profile external-etcd: the apiserver on Debian's etcd over TLS"
(
  export COMPOSE_PROJECT_NAME=tugboatdeployetcd
  # deploy/external-etcd.env: https://127.0.0.1:2379 with the etcd CA and
  # the apiserver's etcd client pair, as the README says to run it.
  ecompose() { compose --env-file deploy/external-etcd.env "$@"; }
  trap 'ecompose --profile external-etcd down -v -t 5 >/dev/null 2>&1' EXIT
  ecompose --profile external-etcd up -d etcd apiserver 2>&1 | grep -v '^Creating\|^Starting' || true
  healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$(ecompose ps -q apiserver)")" = healthy ]; }
  wait_for "the apiserver on the external etcd healthy" 90 healthy
  admin_kubeconfig
  logs=$(ecompose logs apiserver)
  grep -q '"embeddedEtcd":false' <<<"$logs" || fail "the apiserver did not use the external etcd"
  bin/tug create namespace on-etcd >/dev/null
  # The etcd CA and the apiserver's etcd client pair, out of the pki volume.
  e=$work/etcd-client; mkdir -m 0700 "$e"
  api=$(ecompose ps -q apiserver)
  for f in etcd/ca.crt apiserver-etcd-client.crt apiserver-etcd-client.key; do
    docker cp "$api:/etc/tugboat/pki/$f" - | tar -xO >"$e/$(basename $f)"
  done
  sed -n 's/^ *client-certificate-data: *//p' "$KUBECONFIG" | base64 -d >"$e/admin.crt"
  sed -n 's/^ *client-key-data: *//p' "$KUBECONFIG" | base64 -d >"$e/admin.key"
  # Over etcd's gRPC, as the apiserver reads it (etcd's HTTP gateway cannot
  # be used: with --client-cert-auth it dials etcd with the serving
  # certificate, which has no client-auth usage).
  TUGBOAT_ETCD_TLS_DIR=$e TUGBOAT_ETCD_KEY=/registry/namespaces/on-etcd \
    go test -count=1 -tags deploy -run 'ExternalEtcdTLS' -v ./test/deploy/ | grep -E '^(---|===|ok|FAIL|PASS)|etcdtls_test' ||
    fail "the external etcd over TLS"
  say "a namespace created through the apiserver is in the external etcd, read over TLS with the apiserver's etcd client certificate"
  say "etcd refuses plaintext, clients without a certificate and the cluster CA's certificates"
)

services=$(compose config --services | grep -cvx etcd)
say "docker-compose up -d ($services services)"
start=$SECONDS
compose up -d --quiet-pull 2>&1 | grep -v '^Creating\|^Starting' || true
wait_for "every compose service healthy" 120 all_healthy
say "all healthy in $((SECONDS - start))s"
admin_kubeconfig
# Without the admin's client certificate the apiserver answers 401.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 --cacert <(docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/pki/ca.crt - | tar -xO) \
  https://127.0.0.1:6443/api/v1/namespaces) || true
[ "$code" = 401 ] || fail "a request without credentials got $code, not 401"
say "TLS: tug uses the admin kubeconfig from its volume; no credentials get 401"

# Each container has only its own credentials: the volumes it mounts
# (name:destination, the compose project's prefix dropped), and what the
# controller-manager's holds.
mounts() {
  docker inspect -f '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}}:{{.Destination}} {{end}}{{end}}' "$(compose ps -q "$1")" |
    tr ' ' '\n' | sed "s/^${COMPOSE_PROJECT_NAME}_//" | grep . | LC_ALL=C sort | tr '\n' ' '
}
declare -A want_mounts=(
  [apiserver]="apiserver:/var/lib/tugboat etcd-pki:/etc/tugboat/pki/etcd pki:/etc/tugboat/pki "
  [scheduler]="scheduler-credentials:/etc/tugboat/scheduler "
  [controller-manager]="controller-manager-credentials:/etc/tugboat/controller-manager "
  [kubelet]="kubelet-credentials:/etc/tugboat/kubelet kubelet-run:/run/containerd kubelet:/var/lib/tugboat/kubelet "
  [proxy]="proxy-credentials:/etc/tugboat/proxy "
  [dns]="dns-credentials:/etc/tugboat/dns "
  [prometheus]="prometheus:/var/lib/tugboat "
)
for svc in "${!want_mounts[@]}"; do
  got=$(mounts "$svc")
  [ "$got" = "${want_mounts[$svc]}" ] || fail "$svc mounts the volumes '$got', want '${want_mounts[$svc]}'"
done
say "each container mounts only its own credentials volume (the pki volume only the apiserver)"
# Restarting the init services keeps the certificates (idempotent).
ca_before=$(docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/pki/ca.crt - | tar -xO | sha256sum)
# The controller-manager's volume: its kubeconfig and the CA pair it signs with, nothing else.
cm_files=$(docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/controller-manager - | tar -t | LC_ALL=C sort | tr '\n' ' ')
[ "$cm_files" = "controller-manager/ controller-manager/ca.crt controller-manager/ca.key controller-manager/kubeconfig " ] ||
  fail "the controller-manager's volume holds $cm_files"
cm_ca=$(docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/controller-manager/ca.crt - | tar -xO | sha256sum)
[ "$cm_ca" = "$ca_before" ] || fail "the controller-manager's ca.crt is not the cluster CA"
compose run --rm --no-deps init-certs >/dev/null 2>&1 || fail "init-certs run again failed"
compose run --rm --no-deps init-kubeconfig >/dev/null 2>&1 || fail "init-kubeconfig run again failed"
ca_after=$(docker cp "$(compose ps -q init-kubeconfig)":/etc/tugboat/pki/ca.crt - | tar -xO | sha256sum)
[ "$ca_before" = "$ca_after" ] || fail "running the init services again replaced the cluster CA"
wait_for "every compose service healthy after the init services ran again" 60 all_healthy

wait_for "the node Ready in tug get nodes" 60 node_ready
bin/tug get nodes
sed -e 's#mhausenblas/simpleservice:0.5.0#tugboat.local/sise:0.5.0#' \
  machinery/manifest/testdata/seed004/deployment-09-v0.9.yaml | bin/tug apply -f -
wait_for "deployment-09's two pods Running" 90 pods_running
bin/tug get pods -o wide
ip=$(bin/tug get pods -l app=sise -o wide --no-headers | awk 'NR==1 {print $6}')
case $ip in 10.244.*) ;; *) fail "pod address $ip is not in 10.244.0.0/16" ;; esac
answer=$(curl -sf --max-time 5 "http://$ip:9876/info") || fail "the pod at $ip does not answer"
grep -q '"version": "0.9"' <<<"$answer" || fail "the pod answered $answer"
say "the pod at $ip answers $answer"

# A pod asks the cluster DNS through its Service IP: the proxy sends
# 10.96.0.10:53 to tug-dns on 10.244.0.1:1053.
bin/tug run dnsclient --image=tugboat.local/shell:latest --command -- sleep 3600 >/dev/null
dnsclient_running() { bin/tug get pod dnsclient --no-headers | grep -q ' Running '; }
wait_for "the dnsclient pod Running" 60 dnsclient_running
lookup() { bin/tug exec dnsclient -- nslookup kube-dns.kube-system.svc.cluster.local 10.96.0.10 2>&1 || true; }
deadline=$((SECONDS + 30))
until out=$(lookup) && grep -q 'Address.*10\.96\.0\.10$' <<<"$out"; do
  [ $SECONDS -lt $deadline ] || fail "a pod cannot resolve kube-dns.kube-system.svc.cluster.local through 10.96.0.10 (proxy, DNS): $out"
  sleep 0.5
done
say "a pod resolves kube-dns.kube-system.svc.cluster.local through the Service IP 10.96.0.10"

# Logs through the apiserver exercise its client to the kubelet (the
# apiserver's grpc_client metrics appear then).
pod=$(bin/tug get pods -l app=sise -o name | head -1 | cut -d/ -f2)
logs=$(bin/tug logs "$pod") && [ -n "$logs" ] || fail "tug logs $pod printed nothing"

say "Prometheus targets and the dashboards' metrics"
TUGBOAT_PROMETHEUS_URL=http://127.0.0.1:9090 \
TUGBOAT_DNS_ADDRESS=10.244.0.1:1053 \
TUGBOAT_METRICS_URLS="http://127.0.0.1:6444/metrics http://127.0.0.1:10259/metrics http://127.0.0.1:10257/metrics http://127.0.0.1:10248/metrics http://127.0.0.1:10249/metrics http://127.0.0.1:9153/metrics" \
  go test -count=1 -tags deploy -run 'DNS|Live|TargetsUp' -v ./test/deploy/ | grep -E '^(---|===|ok|FAIL|PASS)|live_test' || fail "live checks"

say "a port clash fails with the component's reason"
set +e
out=$(docker run --rm --network host tugboat.local/apiserver:latest \
  --listen-address 127.0.0.1:6443 --data-dir /tmp/apiserver 2>&1)
rc=$?
set -e
[ $rc -ne 0 ] || fail "a second apiserver on 127.0.0.1:6443 did not fail"
grep -q 'listen on 127.0.0.1:6443.*address already in use' <<<"$out" || fail "a second apiserver on 6443 said: $out"
say "a second apiserver on 6443 exits $rc: $(grep -o 'listen on 127.0.0.1:6443[^"]*' <<<"$out")"
