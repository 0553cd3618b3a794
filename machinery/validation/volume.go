package validation

import (
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/names"
)

const modeRange = "must be a number between 0 and 0777 (octal), both inclusive"

// volumes checks a pod's volumes and returns the names declared.
func volumes(p path, vs []*corev1.Volume) (map[string]bool, List) {
	var errs List
	declared := map[string]bool{}
	for i, v := range vs {
		ip := p.index(i)
		switch {
		case v.GetName() == "":
			errs = append(errs, required(ip.child("name"), ""))
		case declared[v.GetName()]:
			errs = append(errs, duplicate(ip.child("name"), v.GetName()))
		default:
			errs = append(errs, check(ip.child("name"), v.GetName(), names.Label(v.GetName()))...)
		}
		declared[v.GetName()] = true
		errs = append(errs, volumeSource(ip, v)...)
	}
	return declared, errs
}

func volumeSource(p path, v *corev1.Volume) List {
	var errs List
	n := 0
	count := func(name string, set bool) bool {
		if !set {
			return false
		}
		n++
		if n > 1 {
			errs = append(errs, forbidden(p.child(name), "may not specify more than 1 volume type"))
			return false
		}
		return true
	}
	if count("emptyDir", v.GetEmptyDir() != nil) {
		e := v.GetEmptyDir()
		errs = append(errs, oneOf(p.child("emptyDir", "medium"), e.GetMedium(), "Memory")...)
		errs = append(errs, quantityOf(p.child("emptyDir", "sizeLimit"), e.GetSizeLimit(), true)...)
	}
	if count("secret", v.GetSecret() != nil) {
		s, sp := v.GetSecret(), p.child("secret")
		if s.GetSecretName() == "" {
			errs = append(errs, required(sp.child("secretName"), ""))
		} else {
			errs = append(errs, check(sp.child("secretName"), s.GetSecretName(), names.Subdomain(s.GetSecretName()))...)
		}
		errs = append(errs, fileMode(sp.child("defaultMode"), s.DefaultMode)...)
		errs = append(errs, keysToPaths(sp.child("items"), s.GetItems())...)
	}
	if count("configMap", v.GetConfigMap() != nil) {
		c, cp := v.GetConfigMap(), p.child("configMap")
		if c.GetName() == "" {
			errs = append(errs, required(cp.child("name"), ""))
		} else {
			errs = append(errs, check(cp.child("name"), c.GetName(), names.Subdomain(c.GetName()))...)
		}
		errs = append(errs, fileMode(cp.child("defaultMode"), c.DefaultMode)...)
		errs = append(errs, keysToPaths(cp.child("items"), c.GetItems())...)
	}
	if count("hostPath", v.GetHostPath() != nil) {
		h := v.GetHostPath()
		if h.GetPath() == "" {
			errs = append(errs, required(p.child("hostPath", "path"), ""))
		}
		errs = append(errs, oneOf(p.child("hostPath", "type"), h.GetType(),
			"DirectoryOrCreate", "Directory", "FileOrCreate", "File", "Socket", "CharDevice", "BlockDevice")...)
	}
	if n == 0 {
		errs = append(errs, required(p, "must specify a volume type"))
	}
	return errs
}

func fileMode(p path, mode *int32) List {
	if mode != nil && (*mode < 0 || *mode > 0o777) {
		return List{invalid(p, *mode, modeRange)}
	}
	return nil
}

func keysToPaths(p path, items []*corev1.KeyToPath) List {
	var errs List
	for i, it := range items {
		ip := p.index(i)
		if it.GetKey() == "" {
			errs = append(errs, required(ip.child("key"), ""))
		}
		if it.GetPath() == "" {
			errs = append(errs, required(ip.child("path"), ""))
		} else {
			errs = append(errs, relativePath(ip.child("path"), it.GetPath())...)
		}
		errs = append(errs, fileMode(ip.child("mode"), it.Mode)...)
	}
	return errs
}

// relativePath checks a path that must stay inside its volume.
func relativePath(p path, s string) List {
	if strings.HasPrefix(s, "/") {
		return List{invalid(p, s, "must be a relative path")}
	}
	for _, part := range strings.Split(s, "/") {
		if part == ".." {
			return List{invalid(p, s, "must not contain '..'")}
		}
	}
	return nil
}

func volumeMounts(p path, mounts []*corev1.VolumeMount, vols map[string]bool) List {
	var errs List
	paths := map[string]bool{}
	for i, m := range mounts {
		ip := p.index(i)
		switch {
		case m.GetName() == "":
			errs = append(errs, required(ip.child("name"), ""))
		case !vols[m.GetName()]:
			errs = append(errs, notFound(ip.child("name"), m.GetName()))
		}
		switch {
		case m.GetMountPath() == "":
			errs = append(errs, required(ip.child("mountPath"), ""))
		case paths[m.GetMountPath()]:
			errs = append(errs, invalid(ip.child("mountPath"), m.GetMountPath(), "must be unique"))
		}
		paths[m.GetMountPath()] = true
		if m.GetSubPath() != "" {
			errs = append(errs, relativePath(ip.child("subPath"), m.GetSubPath())...)
		}
		errs = append(errs, oneOf(ip.child("mountPropagation"), m.GetMountPropagation(), "None", "HostToContainer", "Bidirectional")...)
	}
	return errs
}
