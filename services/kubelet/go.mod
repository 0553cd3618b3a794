module github.com/tugboat-sh/tugboat/services/kubelet

go 1.26.0

require (
	github.com/tugboat-sh/tugboat/client v0.0.0
	github.com/tugboat-sh/tugboat/component v0.0.0
	github.com/tugboat-sh/tugboat/gen v0.0.0
	github.com/tugboat-sh/tugboat/images v0.0.0
	github.com/tugboat-sh/tugboat/machinery v0.0.0
)

require (
	github.com/prometheus/client_golang v1.25.0 // indirect
	github.com/vishvananda/netlink v1.3.1 // indirect
	github.com/vishvananda/netns v0.0.5 // indirect
	go.uber.org/multierr v1.10.0 // indirect
	go.uber.org/zap v1.28.0 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261019180522-ce908d29299b // indirect
	google.golang.org/grpc v1.85.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
	k8s.io/client-go v0.37.2 // indirect
	k8s.io/cri-api v0.37.2 // indirect
	k8s.io/cri-client v0.37.2 // indirect
)

replace (
	github.com/tugboat-sh/tugboat/client => ../../client
	github.com/tugboat-sh/tugboat/component => ../../component
	github.com/tugboat-sh/tugboat/gen => ../../gen
	github.com/tugboat-sh/tugboat/images => ../../images
	github.com/tugboat-sh/tugboat/machinery => ../../machinery
)
