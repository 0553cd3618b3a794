package validation

import (
	"net/netip"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

// containers checks a list of containers; seen holds the container names
// already used in the pod, vols the declared volume names.
func containers(p path, cs []*corev1.Container, vols, seen map[string]bool, hostNetwork bool) List {
	var errs List
	for i, c := range cs {
		ip := p.index(i)
		switch {
		case c.GetName() == "":
			errs = append(errs, required(ip.child("name"), ""))
		case seen[c.GetName()]:
			errs = append(errs, duplicate(ip.child("name"), c.GetName()))
		default:
			errs = append(errs, check(ip.child("name"), c.GetName(), names.Label(c.GetName()))...)
		}
		seen[c.GetName()] = true
		switch img := c.GetImage(); {
		case strings.TrimSpace(img) == "":
			errs = append(errs, required(ip.child("image"), ""))
		case img != strings.TrimSpace(img):
			errs = append(errs, invalid(ip.child("image"), img, "must not have leading or trailing whitespace"))
		}
		errs = append(errs, oneOf(ip.child("imagePullPolicy"), c.GetImagePullPolicy(), "Always", "IfNotPresent", "Never")...)
		errs = append(errs, oneOf(ip.child("terminationMessagePolicy"), c.GetTerminationMessagePolicy(), "File", "FallbackToLogsOnError")...)
		errs = append(errs, containerPorts(ip.child("ports"), c.GetPorts(), hostNetwork)...)
		errs = append(errs, env(ip.child("env"), c.GetEnv())...)
		errs = append(errs, envFrom(ip.child("envFrom"), c.GetEnvFrom())...)
		errs = append(errs, resources(ip.child("resources"), c.GetResources())...)
		errs = append(errs, volumeMounts(ip.child("volumeMounts"), c.GetVolumeMounts(), vols)...)
		errs = append(errs, probe(ip.child("livenessProbe"), c.GetLivenessProbe(), true)...)
		errs = append(errs, probe(ip.child("readinessProbe"), c.GetReadinessProbe(), false)...)
		errs = append(errs, probe(ip.child("startupProbe"), c.GetStartupProbe(), true)...)
		errs = append(errs, probePorts(ip, c)...)
		if h := c.GetLifecycle().GetPostStart(); h != nil {
			errs = append(errs, handler(ip.child("lifecycle", "postStart"), h, nil)...)
		}
		if h := c.GetLifecycle().GetPreStop(); h != nil {
			errs = append(errs, handler(ip.child("lifecycle", "preStop"), h, nil)...)
		}
		if sc := c.GetSecurityContext(); sc != nil {
			errs = append(errs, optNonNegative(ip.child("securityContext", "runAsUser"), sc.RunAsUser)...)
			errs = append(errs, optNonNegative(ip.child("securityContext", "runAsGroup"), sc.RunAsGroup)...)
		}
	}
	return errs
}

func containerPorts(p path, ports []*corev1.ContainerPort, hostNetwork bool) List {
	var errs List
	seen := map[string]bool{}
	for i, port := range ports {
		ip := p.index(i)
		if n := port.GetName(); n != "" {
			if seen[n] {
				errs = append(errs, duplicate(ip.child("name"), n))
			}
			seen[n] = true
			errs = append(errs, check(ip.child("name"), n, names.PortName(n))...)
		}
		if port.GetContainerPort() == 0 {
			errs = append(errs, required(ip.child("containerPort"), ""))
		} else {
			errs = append(errs, portNumber(ip.child("containerPort"), port.GetContainerPort())...)
		}
		if hp := port.GetHostPort(); hp != 0 {
			errs = append(errs, portNumber(ip.child("hostPort"), hp)...)
			if hostNetwork && hp != port.GetContainerPort() {
				errs = append(errs, invalid(ip.child("hostPort"), hp, "must match `containerPort` when `hostNetwork` is true"))
			}
		}
		errs = append(errs, oneOf(ip.child("protocol"), port.GetProtocol(), "TCP", "UDP", "SCTP")...)
		if h := port.GetHostIp(); h != "" {
			if _, err := netip.ParseAddr(h); err != nil {
				errs = append(errs, invalid(ip.child("hostIP"), h, "must be a valid IP address"))
			}
		}
	}
	return errs
}

var podFieldPaths = []string{"metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations",
	"spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"}

var resourceFieldRefs = []string{"limits.cpu", "limits.memory", "limits.ephemeral-storage",
	"requests.cpu", "requests.memory", "requests.ephemeral-storage"}

func env(p path, vars []*corev1.EnvVar) List {
	var errs List
	for i, v := range vars {
		ip := p.index(i)
		if v.GetName() == "" {
			errs = append(errs, required(ip.child("name"), ""))
		} else {
			errs = append(errs, check(ip.child("name"), v.GetName(), names.EnvVarName(v.GetName()))...)
		}
		if v.GetValueFrom() != nil {
			errs = append(errs, envSource(ip.child("valueFrom"), v)...)
		}
	}
	return errs
}

func envSource(p path, v *corev1.EnvVar) List {
	var errs List
	src := v.GetValueFrom()
	n := 0
	if f := src.GetFieldRef(); f != nil {
		n++
		fp := f.GetFieldPath()
		if i := strings.IndexByte(fp, '['); i > 0 && (fp[:i] == "metadata.labels" || fp[:i] == "metadata.annotations") {
			fp = fp[:i]
		}
		switch {
		case f.GetFieldPath() == "":
			errs = append(errs, required(p.child("fieldRef", "fieldPath"), ""))
		case !contains(podFieldPaths, fp):
			errs = append(errs, notSupported(p.child("fieldRef", "fieldPath"), f.GetFieldPath(), podFieldPaths...))
		}
		errs = append(errs, oneOf(p.child("fieldRef", "apiVersion"), f.GetApiVersion(), "v1")...)
	}
	if r := src.GetResourceFieldRef(); r != nil {
		n++
		if r.GetResource() == "" {
			errs = append(errs, required(p.child("resourceFieldRef", "resource"), ""))
		} else {
			errs = append(errs, oneOf(p.child("resourceFieldRef", "resource"), r.GetResource(), resourceFieldRefs...)...)
		}
		errs = append(errs, quantityOf(p.child("resourceFieldRef", "divisor"), r.GetDivisor(), true)...)
	}
	if r := src.GetConfigMapKeyRef(); r != nil {
		n++
		errs = append(errs, keyRef(p.child("configMapKeyRef"), r.GetName(), r.GetKey())...)
	}
	if r := src.GetSecretKeyRef(); r != nil {
		n++
		errs = append(errs, keyRef(p.child("secretKeyRef"), r.GetName(), r.GetKey())...)
	}
	switch {
	case n == 0:
		errs = append(errs, invalid(p, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
	case n > 1:
		errs = append(errs, invalid(p, "", "may not have more than one field specified at a time"))
	case v.GetValue() != "":
		errs = append(errs, invalid(p, "", "may not be specified when `value` is not empty"))
	}
	return errs
}

func keyRef(p path, name, key string) List {
	var errs List
	if name == "" {
		errs = append(errs, required(p.child("name"), ""))
	} else {
		errs = append(errs, check(p.child("name"), name, names.Subdomain(name))...)
	}
	if key == "" {
		errs = append(errs, required(p.child("key"), ""))
	} else {
		errs = append(errs, check(p.child("key"), key, names.ConfigMapKey(key))...)
	}
	return errs
}

func envFrom(p path, srcs []*corev1.EnvFromSource) List {
	var errs List
	for i, s := range srcs {
		ip := p.index(i)
		var name string
		switch {
		case s.GetConfigMapRef() != nil && s.GetSecretRef() != nil:
			errs = append(errs, invalid(ip, "", "may not have more than one field specified at a time"))
			continue
		case s.GetConfigMapRef() != nil:
			ip, name = ip.child("configMapRef"), s.GetConfigMapRef().GetName()
		case s.GetSecretRef() != nil:
			ip, name = ip.child("secretRef"), s.GetSecretRef().GetName()
		default:
			errs = append(errs, invalid(ip, "", "must specify one of: `configMapRef` or `secretRef`"))
			continue
		}
		if name == "" {
			errs = append(errs, required(ip.child("name"), ""))
		} else {
			errs = append(errs, check(ip.child("name"), name, names.Subdomain(name))...)
		}
	}
	return errs
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
