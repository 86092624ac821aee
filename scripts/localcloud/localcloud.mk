# Make fragment for the local cloud (internal/localcloud). Include it from the
# top-level Makefile:   -include scripts/localcloud/localcloud.mk
# Its targets are prefixed so they never clash with the top-level ones; the
# top-level `tools` target may simply run `sh scripts/localcloud/tools.sh`.
#
#   make localcloud-tools    install aws-lambda-rie at the pinned version (idempotent)
#   make test-localcloud     the harness's own integration test (needs moto + rie)
#   make localcloud          run the local cloud by hand on port $(LOCALCLOUD_PORT)

LOCALCLOUD_PORT ?= 4566
LOCALCLOUD_FUNCTIONS ?= -function hello=./test/lambdas/hello

.PHONY: localcloud-tools test-localcloud localcloud

localcloud-tools:
	sh scripts/localcloud/tools.sh

test-localcloud: localcloud-tools
	go test -tags integration -count=1 ./internal/localcloud/

localcloud: localcloud-tools
	go run ./cmd/invoke-router -port $(LOCALCLOUD_PORT) $(LOCALCLOUD_FUNCTIONS)
