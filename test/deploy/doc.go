// Package deploy checks the deploy paths of charts/tugboat and
// docker-compose.yml: the Grafana dashboards' PromQL (every query parses,
// selects a job the chart's scrape configuration defines, and, against a
// running cluster, queries only metrics the components export) and the
// scrape configuration the compose cluster's Prometheus loads (what the
// chart renders). hack/test-deploy.sh runs the live part (build tag deploy)
// against the compose cluster.
package deploy
