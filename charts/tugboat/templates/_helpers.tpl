{{/* The release's name prefix of every object. */}}
{{- define "tugboat.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* The components Prometheus scrapes, in order. */}}
{{- define "tugboat.components" -}}
apiserver kubelet scheduler controller-manager proxy dns
{{- end -}}

{{/* Common labels; call with (dict "ctx" $ "component" "apiserver"). */}}
{{- define "tugboat.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: tugboat
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{ include "tugboat.selectorLabels" . }}
{{- end -}}

{{- define "tugboat.selectorLabels" -}}
app.kubernetes.io/name: tugboat
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* An image reference; call with (dict "ctx" $ "name" "apiserver"). */}}
{{- define "tugboat.image" -}}
{{- printf "%s/%s:%s" .ctx.Values.image.registry .name (default .ctx.Chart.AppVersion .ctx.Values.image.tag) -}}
{{- end -}}

{{/* Prometheus scrape annotations; call with (dict "ctx" $ "port" 6443). */}}
{{- define "tugboat.scrapeAnnotations" -}}
{{- if .ctx.Values.prometheus.scrapeAnnotations }}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end -}}

{{/* The apiserver's in-cluster URL. */}}
{{- define "tugboat.apiserverURL" -}}
{{- printf "https://%s-apiserver.%s.svc:%v" (include "tugboat.fullname" .) .Release.Namespace .Values.apiserver.port -}}
{{- end -}}

{{/* Whether leader election is on for a component with n replicas. */}}
{{- define "tugboat.leaderElect" -}}
{{- if or .ctx.Values.leaderElection.enabled (gt (int .replicas) 1) }}true{{ else }}false{{ end -}}
{{- end -}}

{{/* Settings that cannot work fail the rendering with a reason. */}}
{{- define "tugboat.validate" -}}
{{- if and .Values.etcd.embedded (gt (int .Values.apiserver.replicas) 1) -}}
{{- fail (printf "apiserver.replicas is %v but etcd.embedded is true: each replica would run an etcd of its own with its own data. Use one replica, or set etcd.embedded=false and etcd.endpoints to an etcd cluster" .Values.apiserver.replicas) -}}
{{- end -}}
{{- if and (not .Values.etcd.embedded) (empty .Values.etcd.endpoints) -}}
{{- fail "etcd.embedded is false but etcd.endpoints is empty: give the external etcd's endpoints (etcd.endpoints={http://etcd-0:2379,...}) or set etcd.embedded=true" -}}
{{- end -}}
{{- range .Values.etcd.endpoints -}}
{{- if not (regexMatch "^https?://[^/]+" .) -}}
{{- fail (printf "etcd.endpoints: %q is not an etcd endpoint URL: want http://host:port or https://host:port" .) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.dns.publish (gt (int .Values.dns.replicas) 1) -}}
{{- fail (printf "dns.replicas is %v with dns.publish: each replica would publish itself as kube-dns's only endpoint. Use one replica, or set dns.publish=false and publish kube-dns's Endpoints another way" .Values.dns.replicas) -}}
{{- end -}}
{{- if lt (int .Values.apiserver.replicas) 1 -}}
{{- fail "apiserver.replicas must be at least 1" -}}
{{- end -}}
{{- with .Values.pki.bootstrapToken -}}
{{- if not (regexMatch "^[a-z0-9]{16,64}$" .) -}}
{{- fail "pki.bootstrapToken must be 16 to 64 lower-case letters and digits (it goes into the apiserver's token file): generate one with tr -dc a-z0-9 </dev/urandom | head -c 32" -}}
{{- end -}}
{{- end -}}
{{- if lt (int .Values.pki.caValidityDays) (int .Values.pki.validityDays) -}}
{{- fail (printf "pki.caValidityDays (%v) is shorter than pki.validityDays (%v): no certificate can outlive the CA that signs it" .Values.pki.caValidityDays .Values.pki.validityDays) -}}
{{- end -}}
{{- if ge (int .Values.pki.renewBeforeDays) (int .Values.pki.validityDays) -}}
{{- fail (printf "pki.renewBeforeDays (%v) must be less than pki.validityDays (%v): every upgrade would issue every certificate again" .Values.pki.renewBeforeDays .Values.pki.validityDays) -}}
{{- end -}}
{{- $ports := dict -}}
{{- range $name, $port := dict "apiserver.port" .Values.apiserver.port "scheduler.metricsPort" .Values.scheduler.metricsPort "controllerManager.metricsPort" .Values.controllerManager.metricsPort "kubelet.port" .Values.kubelet.port "kubelet.metricsPort" .Values.kubelet.metricsPort "proxy.metricsPort" .Values.proxy.metricsPort -}}
{{- $key := toString $port -}}
{{- if hasKey $ports $key -}}
{{- fail (printf "%s and %s are both port %v: the kubelet and the other components share the node's network, give each its own port" (get $ports $key) $name $port) -}}
{{- end -}}
{{- $_ := set $ports $key $name -}}
{{- end -}}
{{- end -}}
