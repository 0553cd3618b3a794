package pods

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	corev1 "github.com/tugboat-sh/tugboat/gen/tugboat/core/v1"
	"github.com/tugboat-sh/tugboat/machinery/quantity"
	"github.com/tugboat-sh/tugboat/services/kubelet/cri"
	"github.com/tugboat-sh/tugboat/services/kubelet/volume"
	"go.uber.org/zap"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// podLogDir is where the runtime writes the pod's container logs.
func (m *Manager) podLogDir(ns, name, uid string) string {
	return filepath.Join(m.cfg.LogDir, ns+"_"+name+"_"+uid)
}

func podLabels(pod *corev1.Pod) map[string]string {
	md := pod.GetMetadata()
	return map[string]string{
		cri.LabelPodName:      md.GetName(),
		cri.LabelPodNamespace: md.GetNamespace(),
		cri.LabelPodUID:       md.GetUid(),
		cri.LabelManagedBy:    cri.ManagedBy,
	}
}

// sandboxConfig describes the pod's sandbox: its network namespace (shared
// by all its containers), hostname, log directory and host ports.
func (m *Manager) sandboxConfig(pod *corev1.Pod, attempt uint32) *runtimeapi.PodSandboxConfig {
	md, spec := pod.GetMetadata(), pod.GetSpec()
	hostname := md.GetName()
	if spec.GetHostname() != "" {
		hostname = spec.GetHostname()
	}
	netMode := runtimeapi.NamespaceMode_POD
	if spec.GetHostNetwork() {
		netMode = runtimeapi.NamespaceMode_NODE
		hostname = ""
	}
	var ports []*runtimeapi.PortMapping
	for _, c := range spec.GetContainers() {
		for _, p := range c.GetPorts() {
			if p.GetHostPort() == 0 {
				continue
			}
			ports = append(ports, &runtimeapi.PortMapping{
				Protocol:      protocol(p.GetProtocol()),
				ContainerPort: p.GetContainerPort(),
				HostPort:      p.GetHostPort(),
				HostIp:        p.GetHostIp(),
			})
		}
	}
	return &runtimeapi.PodSandboxConfig{
		Metadata:     &runtimeapi.PodSandboxMetadata{Name: md.GetName(), Namespace: md.GetNamespace(), Uid: md.GetUid(), Attempt: attempt},
		Hostname:     hostname,
		LogDirectory: m.podLogDir(md.GetNamespace(), md.GetName(), md.GetUid()),
		PortMappings: ports,
		DnsConfig:    m.dnsConfig(pod),
		Labels:       podLabels(pod),
		Annotations:  map[string]string{},
		Linux: &runtimeapi.LinuxPodSandboxConfig{
			SecurityContext: &runtimeapi.LinuxSandboxSecurityContext{
				NamespaceOptions: &runtimeapi.NamespaceOption{Network: netMode, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
			},
		},
	}
}

// dnsConfig is the pod's resolv.conf (podDNS) with the host's resolv.conf
// as it is now; one that cannot be read counts as empty.
func (m *Manager) dnsConfig(pod *corev1.Pod) *runtimeapi.DNSConfig {
	host, err := ReadResolvConf(m.cfg.ResolvConf)
	if err != nil && m.log != nil {
		m.log.Warn("host resolv.conf not read", zap.String("path", m.cfg.ResolvConf), zap.Error(err))
	}
	return podDNS(pod, DNSSettings{ClusterDNS: m.cfg.ClusterDNS, ClusterDomain: m.cfg.ClusterDomain, Host: host})
}

func protocol(p string) runtimeapi.Protocol {
	switch strings.ToUpper(p) {
	case "UDP":
		return runtimeapi.Protocol_UDP
	case "SCTP":
		return runtimeapi.Protocol_SCTP
	}
	return runtimeapi.Protocol_TCP
}

// containerConfig describes one container of the pod for CreateContainer.
func (m *Manager) containerConfig(pod *corev1.Pod, c *corev1.Container, image string, attempt uint32, podIP string) (*runtimeapi.ContainerConfig, error) {
	res, err := linuxResources(c.GetResources())
	if err != nil {
		return nil, fmt.Errorf("container %q: %w", c.GetName(), err)
	}
	envs, err := m.envs(pod, c, podIP)
	if err != nil {
		return nil, err
	}
	mounts, err := volume.Mounts(pod, c, m.volumeState(pod.GetMetadata().GetUid()).paths)
	if err != nil {
		return nil, err
	}
	labels := podLabels(pod)
	labels[cri.LabelContainerName] = c.GetName()
	netMode := runtimeapi.NamespaceMode_POD
	if pod.GetSpec().GetHostNetwork() {
		netMode = runtimeapi.NamespaceMode_NODE
	}
	sc := &runtimeapi.LinuxContainerSecurityContext{
		NamespaceOptions: &runtimeapi.NamespaceOption{Network: netMode, Pid: runtimeapi.NamespaceMode_CONTAINER, Ipc: runtimeapi.NamespaceMode_POD},
	}
	if s := c.GetSecurityContext(); s != nil {
		sc.Privileged = s.GetPrivileged()
		sc.ReadonlyRootfs = s.GetReadOnlyRootFilesystem()
		if s.RunAsUser != nil {
			sc.RunAsUser = &runtimeapi.Int64Value{Value: int64(s.GetRunAsUser())}
		}
		if s.RunAsGroup != nil {
			sc.RunAsGroup = &runtimeapi.Int64Value{Value: int64(s.GetRunAsGroup())}
		}
		if caps := s.GetCapabilities(); caps != nil {
			sc.Capabilities = &runtimeapi.Capability{AddCapabilities: caps.GetAdd(), DropCapabilities: caps.GetDrop()}
		}
	}
	return &runtimeapi.ContainerConfig{
		Metadata:   &runtimeapi.ContainerMetadata{Name: c.GetName(), Attempt: attempt},
		Image:      &runtimeapi.ImageSpec{Image: image, UserSpecifiedImage: c.GetImage()},
		Command:    expandAll(c.GetCommand(), envs),
		Args:       expandAll(c.GetArgs(), envs),
		WorkingDir: c.GetWorkingDir(),
		Envs:       envs,
		Mounts:     mounts,
		Labels:     labels,
		Annotations: map[string]string{
			"io.kubernetes.container.restartCount": strconv.Itoa(int(attempt)),
		},
		LogPath:   filepath.Join(c.GetName(), strconv.Itoa(int(attempt))+".log"),
		Stdin:     c.GetStdin(),
		StdinOnce: c.GetStdinOnce(),
		Tty:       c.GetTty(),
		Linux:     &runtimeapi.LinuxContainerConfig{Resources: res, SecurityContext: sc},
	}, nil
}

// linuxResources turns requests and limits into CPU shares and quota and a
// memory limit. The OOM score is never negative: the runtime clamps it on
// hosts without CAP_SYS_RESOURCE, and Tugboat never asks for one.
func linuxResources(r *corev1.ResourceRequirements) (*runtimeapi.LinuxContainerResources, error) {
	out := &runtimeapi.LinuxContainerResources{CpuShares: 2, OomScoreAdj: 1000}
	const period = 100000
	cpuReq, memReq := r.GetRequests()["cpu"], r.GetRequests()["memory"]
	cpuLim, memLim := r.GetLimits()["cpu"], r.GetLimits()["memory"]
	if cpuReq == "" {
		cpuReq = cpuLim
	}
	if cpuReq != "" {
		milli, err := quantity.MilliValue(cpuReq)
		if err != nil {
			return nil, fmt.Errorf("cpu request %q: %w", cpuReq, err)
		}
		out.CpuShares = max(2, milli*1024/1000)
	}
	if cpuLim != "" {
		milli, err := quantity.MilliValue(cpuLim)
		if err != nil {
			return nil, fmt.Errorf("cpu limit %q: %w", cpuLim, err)
		}
		out.CpuPeriod, out.CpuQuota = period, max(1000, milli*period/1000)
	}
	if memLim != "" {
		v, err := quantity.Value(memLim)
		if err != nil {
			return nil, fmt.Errorf("memory limit %q: %w", memLim, err)
		}
		out.MemoryLimitInBytes = v
	}
	if cpuReq != "" || memReq != "" || memLim != "" {
		// Burstable and Guaranteed pods are killed after best-effort ones.
		out.OomScoreAdj = 500
	}
	return out, nil
}
