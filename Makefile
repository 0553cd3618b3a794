# Tugboat build, generation and test targets. Run `make help` for the list.
SHELL := /bin/bash
TOOLS := $(CURDIR)/.tools/bin
export PATH := $(TOOLS):$(PATH)
export GOFLAGS := -buildvcs=false

BUF_VERSION := v1.75.0
PROTOC_GEN_GO_VERSION := v1.36.12
PROTOC_GEN_GO_GRPC_VERSION := v1.6.2
GRPC_GATEWAY_VERSION := v2.33.0

MODULES := gen machinery client component services/apiserver
BINARIES := apiserver

.PHONY: help tools generate check-generate lint build test test-unit smoke bench deps clean

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

tools: $(TOOLS)/buf $(TOOLS)/protoc-gen-go $(TOOLS)/protoc-gen-go-grpc $(TOOLS)/protoc-gen-grpc-gateway $(TOOLS)/protoc-gen-openapiv2 ## install the pinned code generators into .tools/bin

generate: tools ## regenerate gen/ from proto/
	find gen -name '*.go' ! -name doc.go -delete; rm -rf gen/openapiv2
	buf generate

check-generate: generate ## fail when gen/ differs from what proto/ generates
	@git status --porcelain -- gen | grep . && { echo "gen/ is stale: run make generate and commit"; git diff --stat -- gen; exit 1; } || true

lint: tools ## buf lint, go vet, gofmt and tidy go.mod files
	buf lint
	go vet $(addsuffix /...,$(addprefix ./,$(MODULES)))
	@out=$$(gofmt -l $(MODULES)); [ -z "$$out" ] || { echo "gofmt needed: $$out"; exit 1; }
	@for m in $(MODULES); do (cd $$m && GOWORK=off go mod tidy -diff >/dev/null) || { echo "$$m/go.mod is not tidy: run go mod tidy there (GOWORK=off)"; exit 1; }; done

build: ## build the binaries into bin/
	@mkdir -p bin
	CGO_ENABLED=0 go build -o bin/tug-apiserver ./services/apiserver/cmd/tug-apiserver

deps: ## install what the tests need from Debian's packages (root)
	./hack/deps.sh

test-unit: ## unit tests of every module
	go test -count=1 $(addsuffix /...,$(addprefix ./,$(MODULES)))

smoke: build ## run the README's examples against bin/tug-apiserver
	./hack/readme-smoke.sh

test: lint check-generate build ## everything CI runs: lint, generated code, unit and integration tests, README examples
	go test -count=1 -race $(addsuffix /...,$(addprefix ./,$(MODULES)))
	./hack/readme-smoke.sh

bench: build ## benchmarks; writes BENCHMARKS.md
	go run ./services/apiserver/bench -out BENCHMARKS.md

clean: ## remove build output
	rm -rf bin
