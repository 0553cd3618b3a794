#!/usr/bin/env bash
# make up: a one-node cluster on this machine with a demo pod. Brings the
# cluster up (tug up; skipped when one runs), applies a sise pod, waits until
# it runs and says how to reach it. Idempotent; run as root after
# make deps build images. TUG_UP_FLAGS passes extra flags to tug up (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
tug=./bin/tug

if ! out=$($tug up ${TUG_UP_FLAGS:-} 2>&1); then
  if grep -q "already running" <<<"$out"; then
    echo "A Tugboat cluster is already running."
  else
    echo "$out" >&2
    exit 1
  fi
else
  echo "$out" | head -3
fi

$tug apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: sise
  labels:
    app: sise
spec:
  containers:
  - name: sise
    image: tugboat.local/sise:0.5.0
    ports:
    - containerPort: 9876
YAML

deadline=$((SECONDS + 60))
until $tug get pod sise --no-headers 2>/dev/null | grep -q ' Running '; do
  [ $SECONDS -lt $deadline ] || { echo "the sise pod is not Running after 60s:" >&2; $tug describe pod sise >&2; exit 1; }
  sleep 0.2
done
ip=$($tug get pod sise -o wide --no-headers | awk '{print $6}')
info=$($tug exec sise -- wget -qO- http://localhost:9876/info)
cat <<EOF2

The sise pod runs at $ip and answers:
  $info

Reach it:
  curl http://$ip:9876/info             # from this machine, over the tug0 pod bridge
  ./bin/tug exec sise -- wget -qO- http://localhost:9876/info
  ./bin/tug logs sise
  ./bin/tug get pods -o wide
Stop it all: make down   (./bin/tug down)
EOF2
