#!/usr/bin/env bash
# A docker daemon of the deploy test's own (Debian's docker.io), with its
# data, socket and pidfile under DIR and its networking limited to the host
# and none networks: no docker0 bridge, no iptables rules, no forwarding or
# masquerading. It prints nothing; DOCKER_HOST=unix://DIR/docker.sock reaches it.
#   hack/dockerd.sh start DIR   start it and wait (30 s at most) until it answers
#   hack/dockerd.sh stop DIR    stop it by its pidfile, wait until it is gone and
#                               unmount what it left mounted under DIR
set -euo pipefail
cmd=$1 dir=$2
pidfile=$dir/docker.pid
case $cmd in
  start)
    command -v dockerd >/dev/null || { echo "dockerd: not installed: run make deps (docker.io)" >&2; exit 1; }
    mkdir -p "$dir"
    dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$pidfile" \
      --host "unix://$dir/docker.sock" --bridge=none --iptables=false --ip6tables=false \
      --ip-forward=false --ip-masq=false --userland-proxy=false \
      >"$dir/dockerd.log" 2>&1 &
    deadline=$((SECONDS + 30))
    until DOCKER_HOST=unix://$dir/docker.sock docker version >/dev/null 2>&1; do
      if ! kill -0 $! 2>/dev/null || [ $SECONDS -ge $deadline ]; then
        echo "dockerd did not start; its log:" >&2; tail -20 "$dir/dockerd.log" >&2; exit 1
      fi
      sleep 0.2
    done ;;
  stop)
    # The unmounting below runs whatever happened to the process: a
    # dockerd that died leaves its mounts too.
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill "$pid" 2>/dev/null; then
      deadline=$((SECONDS + 30))
      while kill -0 "$pid" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || { echo "dockerd $pid did not stop in 30s: killing it" >&2; kill -9 "$pid"; break; }
        sleep 0.2
      done
    fi
    # dockerd leaves its exec root's netns/default bind mount (and a crash
    # may leave overlays): unmount what is left under DIR, deepest first.
    awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m"
    done ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
