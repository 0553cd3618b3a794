module github.com/tugboat-sh/tugboat/services/kubelet

go 1.26.0

require (
	github.com/tugboat-sh/tugboat/client v0.0.0
	github.com/tugboat-sh/tugboat/component v0.0.0
	github.com/tugboat-sh/tugboat/gen v0.0.0
	github.com/tugboat-sh/tugboat/machinery v0.0.0
)

require (
	github.com/vishvananda/netlink v1.3.1 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
	golang.org/x/sys v0.49.0 // indirect
	k8s.io/client-go v0.37.2 // indirect
	k8s.io/cri-api v0.37.2 // indirect
)

replace (
	github.com/tugboat-sh/tugboat/client => ../../client
	github.com/tugboat-sh/tugboat/component => ../../component
	github.com/tugboat-sh/tugboat/gen => ../../gen
	github.com/tugboat-sh/tugboat/machinery => ../../machinery
)
