#!/usr/bin/env python3
# Writes the Grafana dashboards of charts/tugboat/dashboards (one JSON per
# component and an overview) from the panel lists below; run it after
# changing them: python3 hack/dashboards.py charts/tugboat/dashboards.
# The queries use only metrics the components export: test/deploy checks
# each one parses and, against the compose cluster, exists.
import json, sys, os
out = sys.argv[1]
RI = "$__rate_interval"
def ds():
    return {"type": "prometheus", "uid": "${datasource}"}
def panel(i, title, exprs, unit="short", desc="", x=0, y=0, w=12, h=8, kind="timeseries"):
    p = {"id": i, "type": kind, "title": title, "description": desc, "datasource": ds(),
         "gridPos": {"x": x, "y": y, "w": w, "h": h},
         "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
         "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}} if kind == "timeseries" else {"reduceOptions": {"calcs": ["lastNotNull"]}},
         "targets": [{"refId": chr(65 + k), "datasource": ds(), "expr": e, "legendFormat": l} for k, (e, l) in enumerate(exprs)]}
    return p
def dash(uid, title, desc, rows):
    panels = []
    y = 0
    i = 1
    for row in rows:
        x = 0
        w = 24 // len(row)
        for (t, exprs, unit, d) in row:
            panels.append(panel(i, t, exprs, unit, d, x, y, w))
            i += 1
            x += w
        y += 8
    return {"uid": uid, "title": title, "description": desc, "tags": ["tugboat"], "timezone": "browser",
            "schemaVersion": 39, "version": 1, "editable": True, "refresh": "30s",
            "time": {"from": "now-1h", "to": "now"},
            "templating": {"list": [
                {"name": "datasource", "label": "Data source", "type": "datasource", "query": "prometheus", "current": {}, "hide": 0},
                {"name": "instance", "label": "Instance", "type": "query", "datasource": ds(),
                 "query": {"query": 'label_values(up{job=~"tugboat-.*"}, instance)', "refId": "instance"},
                 "definition": 'label_values(up{job=~"tugboat-.*"}, instance)', "includeAll": True, "multi": True, "allValue": ".*", "current": {}, "refresh": 2, "hide": 0}]},
            "annotations": {"list": []},
            "panels": panels}
def hq(qt, metric, sel, by=""):
    b = "le" + ("," + by if by else "")
    return "histogram_quantile(%s, sum by (%s) (rate(%s_bucket{%s}[%s])))" % (qt, b, metric, sel, RI)
I = 'instance=~"$instance"'
def J(job): return 'job="tugboat-%s",%s' % (job, I)

boards = {}
A = J("apiserver")
boards["apiserver"] = dash("tugboat-apiserver", "Tugboat / API server", "Requests, errors and latency of the apiserver (gRPC and REST, which the gateway counts under the gRPC method), etcd, watches and stored objects.", [
  [("Requests per second by method", [("sum by (grpc_service, grpc_method) (rate(tugboat_apiserver_grpc_server_handled_total{%s}[%s]))" % (A, RI), "{{grpc_service}}/{{grpc_method}}")], "reqps", "Finished RPCs; REST requests count under the gRPC method they map to."),
   ("Errors per second by code", [('sum by (grpc_code) (rate(tugboat_apiserver_grpc_server_handled_total{%s,grpc_code!="OK"}[%s]))' % (A, RI), "{{grpc_code}}")], "reqps", "RPCs that ended with a code other than OK (NotFound, AlreadyExists, InvalidArgument ...).")],
  [("Unary request latency", [(hq("0.5", "tugboat_apiserver_grpc_server_handling_seconds", A + ',grpc_type="unary"'), "p50"), (hq("0.99", "tugboat_apiserver_grpc_server_handling_seconds", A + ',grpc_type="unary"'), "p99")], "s", "Unary RPCs (watches and log streams excluded)."),
   ("p99 latency by method", [(hq("0.99", "tugboat_apiserver_grpc_server_handling_seconds", A + ',grpc_type="unary"', "grpc_method"), "{{grpc_method}}")], "s", "")],
  [("etcd request latency p99 by operation", [(hq("0.99", "tugboat_apiserver_etcd_request_duration_seconds", A, "operation"), "{{operation}}")], "s", ""),
   ("Open watches by resource", [("sum by (resource) (tugboat_apiserver_watches{%s})" % A, "{{resource}}")], "short", "")],
  [("Stored objects by resource", [("sum by (resource) (tugboat_apiserver_storage_objects{%s})" % A, "{{resource}}")], "short", "Refreshed every 30 s."),
   ("Streams to kubelets", [("sum(tugboat_apiserver_kubelet_connections{%s})" % A, "connections"), ("sum(rate(tugboat_apiserver_grpc_client_handled_total{%s}[%s]))" % (A, RI), "calls/s")], "short", "pods/log and pods/exec forwarded to the kubelets.")],
])
S = J("scheduler")
boards["scheduler"] = dash("tugboat-scheduler", "Tugboat / Scheduler", "Scheduling attempts, latency and the pending queues.", [
  [("Attempts per second by result", [("sum by (result) (rate(tugboat_scheduler_schedule_attempts_total{%s}[%s]))" % (S, RI), "{{result}}")], "ops", ""),
   ("Pending pods by queue", [("sum by (queue) (tugboat_scheduler_pending_pods{%s})" % S, "{{queue}}")], "short", "active, backoff, unschedulable")],
  [("Scheduling attempt latency", [(hq("0.5", "tugboat_scheduler_scheduling_attempt_duration_seconds", S), "p50"), (hq("0.99", "tugboat_scheduler_scheduling_attempt_duration_seconds", S), "p99")], "s", "From taking the pod off the queue to its binding or failure."),
   ("Pod scheduling latency (all attempts)", [(hq("0.5", "tugboat_scheduler_pod_scheduling_duration_seconds", S), "p50"), (hq("0.99", "tugboat_scheduler_pod_scheduling_duration_seconds", S), "p99")], "s", "From the pod first entering the queue to its binding.")],
  [("Requests to the apiserver by method and code", [("sum by (method, code) (rate(tugboat_client_requests_total{%s}[%s]))" % (S, RI), "{{method}} {{code}}")], "reqps", ""),
   ("Request latency to the apiserver p99", [(hq("0.99", "tugboat_client_request_duration_seconds", S, "method"), "{{method}}")], "s", "")],
])
C = J("controller-manager")
boards["controller-manager"] = dash("tugboat-controller-manager", "Tugboat / Controller manager", "Control loops: syncs, their latency and the work queues.", [
  [("Syncs per second by controller and result", [("sum by (controller, result) (rate(tugboat_controller_manager_sync_duration_seconds_count{%s}[%s]))" % (C, RI), "{{controller}} {{result}}")], "ops", ""),
   ("Sync latency p99 by controller", [(hq("0.99", "tugboat_controller_manager_sync_duration_seconds", C, "controller"), "{{controller}}")], "s", "")],
  [("Queue depth by controller", [("sum by (name) (tugboat_workqueue_depth{%s})" % C, "{{name}}")], "short", "Keys waiting in each controller's work queue."),
   ("Queue adds and retries per second", [("sum by (name) (rate(tugboat_workqueue_adds_total{%s}[%s]))" % (C, RI), "adds {{name}}"), ("sum by (name) (rate(tugboat_workqueue_retries_total{%s}[%s]))" % (C, RI), "retries {{name}}")], "ops", "")],
  [("Work duration p99 by queue", [(hq("0.99", "tugboat_workqueue_work_duration_seconds", C, "name"), "{{name}}")], "s", "From taking a key to its Done."),
   ("Requests to the apiserver by method and code", [("sum by (method, code) (rate(tugboat_client_requests_total{%s}[%s]))" % (C, RI), "{{method}} {{code}}")], "reqps", "")],
])
K = J("kubelet")
boards["kubelet"] = dash("tugboat-kubelet", "Tugboat / Kubelet", "Pods on the nodes: startup latency, syncs and the container runtime.", [
  [("Running pods by node", [("sum by (instance) (tugboat_kubelet_running_pods{%s})" % K, "{{instance}}")], "short", ""),
   ("Pod startup latency", [(hq("0.5", "tugboat_kubelet_pod_start_duration_seconds", K), "p50"), (hq("0.99", "tugboat_kubelet_pod_start_duration_seconds", K), "p99")], "s", "From the kubelet seeing the pod to Running.")],
  [("Pod sync latency", [(hq("0.5", "tugboat_kubelet_pod_sync_duration_seconds", K), "p50"), (hq("0.99", "tugboat_kubelet_pod_sync_duration_seconds", K), "p99")], "s", ""),
   ("Pod sync errors per second", [("sum by (instance) (rate(tugboat_kubelet_pod_sync_errors_total{%s}[%s]))" % (K, RI), "{{instance}}")], "ops", "Syncs that failed and are retried.")],
  [("Runtime operations per second", [("sum by (operation, result) (rate(tugboat_kubelet_runtime_operations_total{%s}[%s]))" % (K, RI), "{{operation}} {{result}}")], "ops", "CRI calls that change things."),
   ("Pod queue depth", [('sum by (instance) (tugboat_workqueue_depth{%s,name="kubelet_pods"})' % K, "{{instance}}")], "short", "")],
])
P = J("proxy")
boards["proxy"] = dash("tugboat-proxy", "Tugboat / Proxy", "Services programmed in nftables: syncs, their latency and age, rules.", [
  [("Syncs per second by result", [("sum by (result) (rate(tugboat_proxy_syncs_total{%s}[%s]))" % (P, RI), "{{result}}")], "ops", ""),
   ("Sync latency", [(hq("0.5", "tugboat_proxy_sync_duration_seconds", P), "p50"), (hq("0.99", "tugboat_proxy_sync_duration_seconds", P), "p99")], "s", "One transaction of nftables changes.")],
  [("Seconds since the last sync by node", [("time() - max by (instance) (tugboat_proxy_last_sync_timestamp_seconds{%s})" % P, "{{instance}}")], "s", "Grows past the sync period when a proxy is stuck."),
   ("Rules programmed by node", [("sum by (instance) (tugboat_proxy_rules_programmed{%s})" % P, "{{instance}}")], "short", "")],
])
D = J("dns")
boards["dns"] = dash("tugboat-dns", "Tugboat / DNS", "Cluster DNS: queries by type and answer code, latency, forwarding.", [
  [("Queries per second by type", [("sum by (type) (rate(tugboat_dns_queries_total{%s}[%s]))" % (D, RI), "{{type}}")], "reqps", ""),
   ("Answers per second by rcode", [("sum by (rcode) (rate(tugboat_dns_queries_total{%s}[%s]))" % (D, RI), "{{rcode}}")], "reqps", "NXDOMAIN and SERVFAIL stand out here.")],
  [("Request latency", [(hq("0.5", "tugboat_dns_request_duration_seconds", D), "p50"), (hq("0.99", "tugboat_dns_request_duration_seconds", D), "p99")], "s", "Forwarding included."),
   ("Forwarded per second by rcode", [("sum by (rcode) (rate(tugboat_dns_forward_requests_total{%s}[%s]))" % (D, RI), "{{rcode}}")], "reqps", "Names outside the cluster domain; SERVFAIL when no upstream answered.")],
])
O = I
boards["overview"] = dash("tugboat-overview", "Tugboat / Overview", "The whole suite at a glance; each component has a dashboard of its own.", [
  [("Components up", [('sum by (job) (up{job=~"tugboat-.*",%s})' % I, "{{job}}")], "short", "Targets Prometheus scrapes successfully, per component."),
   ("API requests and errors per second", [("sum(rate(tugboat_apiserver_grpc_server_handled_total{%s}[%s]))" % (A, RI), "requests"), ('sum(rate(tugboat_apiserver_grpc_server_handled_total{%s,grpc_code!="OK"}[%s]))' % (A, RI), "errors")], "reqps", "")],
  [("API latency p99 (unary)", [(hq("0.99", "tugboat_apiserver_grpc_server_handling_seconds", A + ',grpc_type="unary"'), "p99")], "s", ""),
   ("Pending pods", [("sum by (queue) (tugboat_scheduler_pending_pods{%s})" % S, "{{queue}}")], "short", "")],
  [("Scheduling latency p99", [(hq("0.99", "tugboat_scheduler_pod_scheduling_duration_seconds", S), "p99")], "s", ""),
   ("Pod startup latency p99", [(hq("0.99", "tugboat_kubelet_pod_start_duration_seconds", K), "p99")], "s", "")],
  [("Running pods", [("sum(tugboat_kubelet_running_pods{%s})" % K, "pods")], "short", ""),
   ("Controller queue depth", [("sum by (name) (tugboat_workqueue_depth{%s})" % C, "{{name}}")], "short", "")],
  [("Proxy sync latency p99", [(hq("0.99", "tugboat_proxy_sync_duration_seconds", P), "p99")], "s", ""),
   ("DNS queries per second by rcode", [("sum by (rcode) (rate(tugboat_dns_queries_total{%s}[%s]))" % (D, RI), "{{rcode}}")], "reqps", "")],
])
for n, b in boards.items():
    with open(os.path.join(out, n + ".json"), "w") as f:
        json.dump(b, f, indent=2)
        f.write("\n")
