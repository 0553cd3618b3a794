#!/usr/bin/env bash
# Runs the README's examples against the real bin/tug-apiserver, so the README
# stays true: build, start (secure by default), the kubeconfigs from tug init
# phase kubeconfig, the curl calls with the admin's certificate and one
# without (401), kubectl, grpcurl, a SIGTERM shutdown. Everything stays on 127.0.0.1; the server and the data dir are
# removed on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

addr=127.0.0.1:6443
metrics=127.0.0.1:6444
work=$(mktemp -d)
pid=
spid=
kpid=
cpid=
cleanup() {
  for p in $kpid $spid $cpid $pid; do
    if kill -0 "$p" 2>/dev/null; then kill "$p"; wait "$p" 2>/dev/null || true; fi
  done
  if [ -d "$work/kubelet" ]; then
    ./bin/tug-kubelet --cleanup --managed-containerd --root-dir "$work/kubelet" >"$work/cleanup.log" 2>&1 || cat "$work/cleanup.log" >&2
  fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "readme-smoke: $*" >&2; [ -f "$work/log" ] && tail -20 "$work/log" >&2; exit 1; }
expect() { # expect NAME EXTENDED-REGEX TEXT
  grep -Eq -- "$2" <<<"$3" || fail "$1: output lacks '$2': $3"
}

if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then fail "something already listens on $addr"; fi

make -s build images
./bin/tug-apiserver --data-dir "$work/data" --metrics-address "$metrics" >"$work/log" 2>&1 &
pid=$!
deadline=$((SECONDS + 60))
until curl -sf "http://$metrics/readyz" >/dev/null; do
  kill -0 "$pid" 2>/dev/null || fail "tug-apiserver exited"
  [ $SECONDS -lt $deadline ] || fail "not ready within 60s"
  sleep 0.2
done

./bin/tug init phase kubeconfig --cert-dir "$work/data/pki" --server https://127.0.0.1:6443 \
  --out "$work/conf" --node-name node1 >/dev/null || fail "tug init phase kubeconfig"
export KUBECONFIG="$work/conf/admin.conf"
kubectl config view --raw -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d >"$work/admin.crt"
kubectl config view --raw -o jsonpath='{.users[0].user.client-key-data}' | base64 -d >"$work/admin.key"
tc() { curl -s --cacert "$work/data/pki/ca.crt" --cert "$work/admin.crt" --key "$work/admin.key" "$@"; }

out=$(tc https://127.0.0.1:6443/api/v1/namespaces)
expect "list namespaces" '"name":"kube-system"' "$out"

out=$(tc -X POST https://127.0.0.1:6443/api/v1/namespaces/default/pods \
  -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","labels":{"app":"web"}},
       "spec":{"containers":[{"name":"web","image":"tugboat.local/sise:0.5.0"}]}}')
expect "create pod" '"uid"' "$out"

out=$(tc 'https://127.0.0.1:6443/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')
expect "list by label" '"kind":"PodList"' "$out"
expect "list by label" '"name":"web"' "$out"

out=$(tc -N --max-time 3 'https://127.0.0.1:6443/api/v1/namespaces/default/pods?watch=true' || true)
expect "watch" '^\{"type": ?"ADDED", ?"object": ?\{"apiVersion": ?"v1", ?"kind": ?"Pod"' "$out"

out=$(tc https://127.0.0.1:6443/api/v1/namespaces/default/pods/nothere)
expect "not found" '"code":404' "$out"

out=$(curl -s --cacert "$work/data/pki/ca.crt" https://127.0.0.1:6443/api/v1/namespaces)
expect "no certificate" '"code":401' "$out"

out=$(kubectl get pods)
expect "kubectl get pods" '^web ' "$out"

out=$(go run github.com/fullstorydev/grpcurl/cmd/grpcurl@v1.9.3 -cacert "$work/data/pki/ca.crt" \
  -cert "$work/admin.crt" -key "$work/admin.key" -import-path proto -proto tugboat/core/v1/services.proto \
  -d '{"namespace":"default","name":"web"}' \
  127.0.0.1:6443 tugboat.core.v1.PodService/Get)
expect "grpcurl Get" '"image": "tugboat.local/sise:0.5.0"' "$out"

# A node: the scheduler binds web, the kubelet runs it on its own containerd.
./bin/tug-scheduler --kubeconfig "$work/conf/scheduler.conf" --metrics-address 127.0.0.1:0 >"$work/scheduler.log" 2>&1 &
spid=$!
./bin/tug-kubelet --kubeconfig "$work/conf/kubelet.conf" --node-name node1 --managed-containerd \
  --image-archives bin/images --root-dir "$work/kubelet" --pod-cidr 10.244.0.0/24 --metrics-address 127.0.0.1:0 >"$work/kubelet.log" 2>&1 &
kpid=$!
deadline=$((SECONDS + 90))
until [ "$(kubectl get pod web -o jsonpath='{.status.phase}')" = Running ]; do
  kill -0 "$kpid" 2>/dev/null || { tail -20 "$work/kubelet.log" >&2; fail "tug-kubelet exited"; }
  [ $SECONDS -lt $deadline ] || { tail -20 "$work/kubelet.log" "$work/scheduler.log" >&2; fail "pod web not Running within 90s"; }
  sleep 0.2
done
out=$(kubectl get pod web -o jsonpath='{.spec.nodeName} {.status.podIP}')
expect "pod web bound and addressed" '^node1 10\.244\.0\.[0-9]+$' "$out"
out=$(kubectl logs web)
expect "kubectl logs web" 'listening on :9876' "$out"
kubectl delete pod web --grace-period=1 >/dev/null || fail "kubectl delete pod web"

# Workloads: the controller-manager rolls a deployment out, scales it,
# rolls it forward and back, and collects it when it is deleted.
./bin/tug-controller-manager --kubeconfig "$work/conf/controller-manager.conf" --metrics-address 127.0.0.1:0 >"$work/cm.log" 2>&1 &
cpid=$!
kubectl create deployment hello --image=tugboat.local/sise:0.5.0 --replicas=2 --dry-run=client -o yaml | kubectl apply -f - >/dev/null ||
  fail "kubectl apply deployment hello"
out=$(kubectl rollout status deployment hello --timeout=90s) || { tail -20 "$work/cm.log" >&2; fail "rollout of hello: $out"; }
expect "rollout status" 'successfully rolled out' "$out"
kubectl scale deployment hello --replicas=3 >/dev/null || fail "kubectl scale"
kubectl rollout status deployment hello --timeout=90s >/dev/null || fail "scale of hello to 3"
kubectl patch deployment hello --type=json -p \
  '[{"op":"add","path":"/spec/template/spec/containers/0/env","value":[{"name":"SIMPLE_SERVICE_VERSION","value":"1.0"}]}]' >/dev/null ||
  fail "kubectl patch deployment hello"
kubectl rollout status deployment hello --timeout=90s >/dev/null || fail "rollout of hello's new template"
kubectl rollout undo deployment hello >/dev/null || fail "kubectl rollout undo"
kubectl rollout status deployment hello --timeout=90s >/dev/null || fail "rollback of hello"
out=$(kubectl get deployment hello -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision} {.status.availableReplicas}')
expect "revision after undo" '^3 3$' "$out"
kubectl delete deployment hello >/dev/null || fail "kubectl delete deployment hello"
deadline=$((SECONDS + 90))
until [ -z "$(kubectl get rs,pods -l app=hello -o name)" ]; do
  [ $SECONDS -lt $deadline ] || { tail -20 "$work/cm.log" >&2; fail "hello's ReplicaSets and pods not collected within 90s"; }
  sleep 0.2
done

kill -TERM "$kpid" "$spid" "$cpid"
wait "$kpid" "$spid" "$cpid" || fail "scheduler, controller-manager or kubelet exited non-zero after SIGTERM"
kpid= spid= cpid=

kill -TERM "$pid"
deadline=$((SECONDS + 20))
while kill -0 "$pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "did not stop within 20s of SIGTERM"
  sleep 0.1
done
wait "$pid" || fail "exited non-zero after SIGTERM"
pid=
grep -q "apiserver shutting down" "$work/log" || fail "no graceful shutdown in the log"
echo "readme-smoke: ok"
