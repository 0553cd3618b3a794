{{/*
The release's PKI, made once per rendering and kept across upgrades.

tugboat.pki returns (as JSON) a dict of PEM strings and tokens:
  ca.crt ca.key                 the cluster CA (sprig genCAWithKey)
  apiserver.crt apiserver.key   the apiserver's serving certificate
  apiserver-kubelet-client.*    the apiserver's client certificate to kubelets
  scheduler.* controller-manager.* proxy.* dns.*
                                each component's client certificate; the
                                component is its CN (system:kube-scheduler,
                                ...), the user the default bindings bind
  sa.key                        signs service-account tokens
  bootstrap-token               the kubelets' bootstrap token (group
                                system:bootstrappers, --token-auth-file)
  admin-token                   the admin's token (group system:masters)
  apiserver.sans                the serving certificate's names, to re-issue
                                it when they change
  <name>.notAfter               when each certificate expires (RFC 3339,
                                UTC), recorded when it is issued: sprig
                                cannot parse a certificate
On an upgrade the Secret <fullname>-pki is looked up and everything in it is
kept, so the cluster keeps its CA and the nodes their credentials; a leaf
certificate is issued again (a new key, the same CA) when it is missing,
has no notAfter recorded, expires within pki.renewBeforeDays (30), or for
the apiserver when its names changed. The CA (pki.caValidityDays, ten
years) is never replaced by the chart: renewing it means re-trusting every
node (README, "Certificates"). helm template (no cluster to look up) makes
a new one each time.
sprig cannot set a certificate's organisation (O): identities are by CN,
and the admin (system:masters) authenticates with admin-token.
*/}}
{{- define "tugboat.pki" -}}
{{- if not (hasKey .Values "__tugboatPKI") -}}
{{- $days := int .Values.pki.validityDays -}}
{{- $caDays := int .Values.pki.caValidityDays -}}
{{- $rfc3339 := "2006-01-02T15:04:05Z07:00" -}}
{{- /* A leaf whose recorded notAfter is before this is issued again. */ -}}
{{- $renewBy := add (now | unixEpoch | int64) (mul (int .Values.pki.renewBeforeDays) 86400) -}}
{{- $leafNotAfter := dateInZone $rfc3339 (dateModify (printf "+%dh" (mul $days 24)) now) "UTC" -}}
{{- $fullname := include "tugboat.fullname" . -}}
{{- $old := dict -}}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (printf "%s-pki" $fullname) -}}
{{- if $existing -}}
{{- range $k, $v := $existing.data -}}
{{- $_ := set $old $k (b64dec $v) -}}
{{- end -}}
{{- end -}}
{{- $pki := dict -}}
{{- $ca := dict -}}
{{- if and (hasKey $old "ca.crt") (hasKey $old "ca.key") -}}
{{- $ca = buildCustomCert (b64enc (get $old "ca.crt")) (b64enc (get $old "ca.key")) -}}
{{- if hasKey $old "ca.notAfter" -}}
{{- $_ := set $pki "ca.notAfter" (get $old "ca.notAfter") -}}
{{- end -}}
{{- else -}}
{{- $ca = genCAWithKey "tugboat-ca" $caDays (genPrivateKey "ecdsa") -}}
{{- $_ := set $pki "ca.notAfter" (dateInZone $rfc3339 (dateModify (printf "+%dh" (mul $caDays 24)) now) "UTC") -}}
{{- end -}}
{{- $_ := set $pki "ca.crt" $ca.Cert -}}
{{- $_ := set $pki "ca.key" $ca.Key -}}
{{- /* The apiserver's names: its Service's, Tugboat's kubernetes Service's, loopback. */ -}}
{{- $svc := printf "%s-apiserver" $fullname -}}
{{- $domain := .Values.dns.clusterDomain -}}
{{- $dnsNames := list "localhost" "kubernetes" "kubernetes.default" "kubernetes.default.svc" (printf "kubernetes.default.svc.%s" $domain) $svc (printf "%s.%s" $svc .Release.Namespace) (printf "%s.%s.svc" $svc .Release.Namespace) (printf "%s.%s.svc.%s" $svc .Release.Namespace $domain) -}}
{{- $ips := list "127.0.0.1" .Values.apiserver.serviceIP -}}
{{- range .Values.apiserver.certSANs -}}
{{- if regexMatch "^[0-9.]+$|:" . -}}
{{- $ips = append $ips . -}}
{{- else -}}
{{- $dnsNames = append $dnsNames . -}}
{{- end -}}
{{- end -}}
{{- $sans := printf "%s %s" (join "," $dnsNames) (join "," $ips) -}}
{{- if and (include "tugboat.pkiFresh" (dict "old" $old "name" "apiserver" "renewBy" $renewBy)) (eq (get $old "apiserver.sans") $sans) -}}
{{- $_ := set $pki "apiserver.crt" (get $old "apiserver.crt") -}}
{{- $_ := set $pki "apiserver.key" (get $old "apiserver.key") -}}
{{- $_ := set $pki "apiserver.notAfter" (get $old "apiserver.notAfter") -}}
{{- else -}}
{{- $c := genSignedCertWithKey "kube-apiserver" $ips $dnsNames $days $ca (genPrivateKey "ecdsa") -}}
{{- $_ := set $pki "apiserver.crt" $c.Cert -}}
{{- $_ := set $pki "apiserver.key" $c.Key -}}
{{- $_ := set $pki "apiserver.notAfter" $leafNotAfter -}}
{{- end -}}
{{- $_ := set $pki "apiserver.sans" $sans -}}
{{- range $name, $cn := dict "apiserver-kubelet-client" "kube-apiserver-kubelet-client" "scheduler" "system:kube-scheduler" "controller-manager" "system:kube-controller-manager" "proxy" "system:kube-proxy" "dns" "system:kube-dns" -}}
{{- $crt := printf "%s.crt" $name -}}
{{- $key := printf "%s.key" $name -}}
{{- $notAfter := printf "%s.notAfter" $name -}}
{{- if include "tugboat.pkiFresh" (dict "old" $old "name" $name "renewBy" $renewBy) -}}
{{- $_ := set $pki $crt (get $old $crt) -}}
{{- $_ := set $pki $key (get $old $key) -}}
{{- $_ := set $pki $notAfter (get $old $notAfter) -}}
{{- else -}}
{{- $c := genSignedCertWithKey $cn (list) (list) $days $ca (genPrivateKey "ecdsa") -}}
{{- $_ := set $pki $crt $c.Cert -}}
{{- $_ := set $pki $key $c.Key -}}
{{- $_ := set $pki $notAfter $leafNotAfter -}}
{{- end -}}
{{- end -}}
{{- $_ := set $pki "sa.key" (get $old "sa.key" | default (genPrivateKey "ecdsa")) -}}
{{- /* pki.bootstrapToken, when set, replaces the kept one: helm upgrade --set pki.bootstrapToken=... rotates it. */ -}}
{{- $_ := set $pki "bootstrap-token" (.Values.pki.bootstrapToken | default (get $old "bootstrap-token") | default (randAlphaNum 32 | lower)) -}}
{{- $_ := set $pki "admin-token" (get $old "admin-token" | default (randAlphaNum 32 | lower)) -}}
{{- $_ := set .Values "__tugboatPKI" $pki -}}
{{- end -}}
{{- toJson (get .Values "__tugboatPKI") -}}
{{- end -}}

{{/*
tugboat.pkiFresh: "true" when the looked-up PKI (.old) holds .name's
certificate and key and a recorded notAfter later than .renewBy (Unix
seconds); empty otherwise, so the certificate is issued again.
*/}}
{{- define "tugboat.pkiFresh" -}}
{{- $crt := printf "%s.crt" .name -}}
{{- $key := printf "%s.key" .name -}}
{{- $notAfter := printf "%s.notAfter" .name -}}
{{- if and (hasKey .old $crt) (hasKey .old $key) (hasKey .old $notAfter) -}}
{{- $t := toDate "2006-01-02T15:04:05Z07:00" (get .old $notAfter) -}}
{{- if gt ($t | unixEpoch | int64) (int64 .renewBy) -}}true{{- end -}}
{{- end -}}
{{- end -}}

{{/* A kubeconfig; call with (dict "ctx" $ "server" URL "user" (dict ...)). */}}
{{- define "tugboat.kubeconfig" -}}
{{- $pki := include "tugboat.pki" .ctx | fromJson -}}
apiVersion: v1
kind: Config
clusters:
- name: tugboat
  cluster:
    server: {{ .server }}
    certificate-authority-data: {{ get $pki "ca.crt" | b64enc }}
users:
- name: tugboat
  user: {{ toJson .user }}
contexts:
- name: tugboat
  context: {cluster: tugboat, user: tugboat}
current-context: tugboat
{{- end -}}

{{/* A component's kubeconfig with its client certificate; call with (dict "ctx" $ "name" "scheduler"). */}}
{{- define "tugboat.componentKubeconfig" -}}
{{- $pki := include "tugboat.pki" .ctx | fromJson -}}
{{- $user := dict "client-certificate-data" (get $pki (printf "%s.crt" .name) | b64enc) "client-key-data" (get $pki (printf "%s.key" .name) | b64enc) -}}
{{- include "tugboat.kubeconfig" (dict "ctx" .ctx "server" (include "tugboat.apiserverURL" .ctx) "user" $user) -}}
{{- end -}}
