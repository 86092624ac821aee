# attom-batch. `make run` sets up and runs the main job on the embedded default; `make test`
# runs the tests. Everything else is below.
SHELL := /bin/bash
GO ?= go
GOBIN ?= $(shell $(GO) env GOPATH)/bin
export PATH := $(GOBIN):$(PATH)
FUNCTIONS := prepare submit poll resume download process leads complete fail lookupchunk refresh import start
LAMBDA_ARCH ?= arm64
LAMBDA_DIR ?= build/lambdas
STATICCHECK_VERSION := v0.8.2
FUZZTIME ?= 5s

.PHONY: cloud all build cli run test unit fuzz asl test-integration test-localstack lambdas lambdas-host bench lint tools npm-tools clean

all: build

build: cli lambdas

## cli: the attom-batch command in bin/
cli:
	$(GO) build -trimpath -o bin/attom-batch ./cmd/attom-batch

## run: the seed's run-all example on the embedded default (SQLite + directories) and the
## ATTOM simulator (no key needed; set ATTOM_API_KEY to use the real API).
run: cli
	./bin/attom-batch run-all examples/properties.csv --name "My First Batch" --leads

## test: unit tests (adapter tests against moto included), brief fuzzing, ASL validation.
test: unit fuzz asl

unit:
	$(GO) test -count=1 ./...

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzNormalize -fuzztime=$(FUZZTIME) ./internal/address
	$(GO) test -run='^$$' -fuzz=FuzzReader -fuzztime=$(FUZZTIME) ./internal/csvin

npm-tools: _tools/node_modules/.installed

_tools/node_modules/.installed: _tools/package.json _tools/package-lock.json
	cd _tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

asl: npm-tools
	bash _tools/validate-asl.sh

## lambdas: every function as bootstrap for provided.al2023 (linux/arm64), reproducibly.
lambdas:
	@for f in $(FUNCTIONS); do \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$(LAMBDA_ARCH) $(GO) build -tags lambda.norpc -trimpath -buildvcs=false \
	    -ldflags='-s -w' -o $(LAMBDA_DIR)/$$f/bootstrap ./functions/$$f || exit 1; \
	done

## lambdas-host: the same binaries for this machine, to run under aws-lambda-rie.
lambdas-host:
	$(MAKE) lambdas LAMBDA_ARCH=$(shell $(GO) env GOARCH) LAMBDA_DIR=build/lambdas-host

## test-integration: the real Lambda binaries under both state machines on moto (no Docker).
test-integration: tools lambdas-host
	$(GO) test -count=1 -tags integration -timeout 20m ./test/integration/...

## cloud: the whole AWS side on this machine (moto, every function, the tables, the bucket,
## both state machines, the upload rule) until Ctrl-C; `. .localcloud.env` points awscli and
## attom-batch --backend aws at it. See docs/local-cloud.md.
cloud: tools
	$(GO) run ./cmd/localcloud --env-file .localcloud.env

## test-localstack: the same integration tests against LocalStack (needs Docker and
## LOCALSTACK_AUTH_TOKEN; this project's CI machines have no Docker, so they use moto).
LOCALSTACK_COMPOSE := docker compose -f test/localstack/compose.yaml
test-localstack: lambdas-host
	$(LOCALSTACK_COMPOSE) up -d --wait
	ATTOM_BATCH_IT_ENDPOINT=http://127.0.0.1:4566 $(GO) test -count=1 -tags integration -timeout 30m ./test/integration/... ; \
	  status=$$?; $(LOCALSTACK_COMPOSE) down; exit $$status

## tools: binaries the tests run (aws-lambda-rie for the local cloud).
tools:
	$(GO) install github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d

## bench: benchmarks; numbers go to docs/benchmarks.md by hand.
bench:
	mkdir -p build
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=1x ./... | tee build/bench.txt

## lint: formatting, vet, staticcheck and a tidy go.mod.
lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1)
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...
	$(GO) mod tidy -diff

clean:
	rm -rf bin build cdk.out data

-include infra/infra.mk
