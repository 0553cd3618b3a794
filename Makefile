# Tugboat build, generation and test targets. Run `make help` for the list.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
export GOFLAGS := -buildvcs=false

BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION := v2.33.0
COREDNS_VERSION := v1.15.0

MODULES := gen machinery client component images services/apiserver services/kubelet services/scheduler services/controller-manager services/proxy services/dns cli test
BINARIES := apiserver kubelet scheduler controller-manager proxy dns
# Container images (make docker): one per binary and tug, plus etcd and
# Prometheus from Debian's binaries. Tagged tugboat.local/<name>:$(VERSION)
# and :latest (docker-compose.yml runs :latest unless TUGBOAT_VERSION says).
DOCKER_IMAGES := $(BINARIES) tug etcd prometheus
VERSION ?= 0.1.0
HELM_VERSION := v3.22.0

.PHONY: help tools generate check-generate lint build images docker test test-unit test-e2e test-deploy smoke bench bench-cli up down deps clean bench-proxy bench-dns

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/'

$(TOOLS)/buf:
	GOBIN=$(TOOLS) go install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
$(TOOLS)/protoc-gen-go:
	GOBIN=$(TOOLS) go install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
$(TOOLS)/protoc-gen-go-grpc:
	GOBIN=$(TOOLS) go install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
$(TOOLS)/protoc-gen-grpc-gateway:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-grpc-gateway@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/protoc-gen-openapiv2:
	GOBIN=$(TOOLS) go install github.com/grpc-ecosystem/grpc-gateway/v2/protoc-gen-openapiv2@$(GRPC_GATEWAY_VERSION)
$(TOOLS)/helm:
	GOBIN=$(TOOLS) go install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
$(TOOLS)/coredns:
	GOBIN=$(TOOLS) go install github.com/coredns/coredns@$(COREDNS_VERSION)

tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/protoc-gen-grpc-gateway $(TOOLS)/protoc-gen-openapiv2 $(TOOLS)/helm ## install the pinned code generators and helm into .tools/bin

generate: tools ## regenerate gen/ from proto/
	find gen -name '*.go' ! -name doc.go -delete; rm -rf gen/openapiv2
	buf generate

check-generate: generate ## fail when gen/ differs from what proto/ generates
	@git status --porcelain -- gen | grep . && { echo "gen/ is stale: run make generate and commit"; git diff --stat -- gen; exit 1; } || true

lint: tools ## buf lint, go vet, gofmt and tidy go.mod files
	buf lint
	go vet -tags e2e $(addsuffix /...,$(addprefix ./,$(MODULES)))
	@out=$$(gofmt -l $(MODULES)); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	@for m in $(MODULES); do (cd $$m && GOWORK=off go mod tidy -diff >/dev/null) || { echo "$$m/go.mod is not tidy: run go mod tidy there (GOWORK=off)"; exit 1; }; done

build: ## build the binaries into bin/
	@mkdir -p bin
	@for b in $(BINARIES); do echo "go build bin/tug-$$b"; CGO_ENABLED=0 go build -o bin/tug-$$b ./services/$$b/cmd/tug-$$b || exit 1; done
	@echo "go build bin/tug"; CGO_ENABLED=0 go build -o bin/tug ./cli/cmd/tug
	@echo "go build bin/tug-healthcheck"; CGO_ENABLED=0 go build -o bin/tug-healthcheck ./component/cmd/tug-healthcheck

images: ## build the OCI image archives (pause, sise, shell) into bin/images
	go run ./images/build -out bin/images

docker: build images ## the container images tugboat.local/<name>:$(VERSION) from dockerfiles/ (a running dockerd; root)
	./hack/docker-images.sh $(VERSION) $(DOCKER_IMAGES)

deps: ## install what the tests need from Debian's packages (root)
	./hack/deps.sh

test-unit: ## unit tests of every module
	go test -count=1 $(addsuffix /...,$(addprefix ./,$(MODULES)))

smoke: build ## run the README's examples against bin/tug-apiserver
	./hack/readme-smoke.sh

test: lint check-generate build images ## everything CI runs: lint, generated code, unit, integration and end-to-end tests, README examples
	go test -count=1 -race $(addsuffix /...,$(addprefix ./,$(MODULES)))
	go test -count=1 -tags e2e ./test/e2e/
	go test -count=1 -tags e2e -run E2E ./services/kubelet/stream/
	go test -count=1 -tags e2e ./cli/e2e/
	./hack/readme-smoke.sh
	./hack/test-deploy.sh

test-deploy: tools build images ## the deploy paths: helm lint/template, a dockerd of its own, make docker, the compose cluster, Prometheus and the dashboards' metrics (root)
	./hack/test-deploy.sh

test-e2e: build images ## end-to-end tests: the binaries as a one-node cluster on a real containerd, kubelet exec on a private one, tug up/down and seed 004 with tug (root)
	go test -count=1 -tags e2e -v ./test/e2e/
	go test -count=1 -tags e2e -run E2E -v ./services/kubelet/stream/
	go test -count=1 -tags e2e -v ./cli/e2e/

bench: build ## benchmarks; writes BENCHMARKS.md
	go run ./services/apiserver/bench -out BENCHMARKS.md

up: deps build images ## a one-node cluster on this machine and a demo pod: deps, build, images, tug up, a sise pod and how to reach it (root)
	./hack/up.sh

down: ## stop the local cluster and remove its containers, sandboxes, network namespaces and routes (root)
	./bin/tug down

bench-cli: build images ## tug benchmarks: tug get pods over 1,000 pods, and tug up to node Ready (root, real containerd)
	go test -count=1 -run '^$$' -bench GetPods -benchtime 20x ./cli/command/
	go test -count=1 -tags e2e -run '^$$' -bench Up -benchtime 5x ./cli/e2e/

bench-proxy: ## tug-proxy benchmarks: 1,000 Services x 10 endpoints programmed from scratch, and one endpoint change among them (root, real nftables in a test-made netns)
	flock /tmp/tugboat-realnode.lock go test -count=1 -run '^$$' -bench FullSync -benchtime 5x ./services/proxy/nft/
	flock /tmp/tugboat-realnode.lock go test -count=1 -run '^$$' -bench EndpointChange -benchtime 500x ./services/proxy/nft/
bench-dns: $(TOOLS)/coredns ## DNS benchmark: tug-dns and CoreDNS (file plugin, no cache) answering 1,000 Service A records, queries/s and p99
	COREDNS=$(TOOLS)/coredns go test -count=1 -run '^$$' -bench ServiceA -benchtime 200000x ./services/dns/bench/

clean: ## remove build output
	rm -rf bin
