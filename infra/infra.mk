# CDK targets, included by the top Makefile (`-include infra/infra.mk`). The CDK app is its own
# Go module in infra/ so the runtime module's tests never pull in jsii and Node.

GO ?= go
CDK_CLI_DIR := _tools/cdk
CDK := $(CDK_CLI_DIR)/node_modules/.bin/cdk
# Offline and account-free: the stack is environment-agnostic and never looks anything up.
# No IMDS probing, no notices or telemetry calls, and no Node 20 end-of-life banner.
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 AWS_EC2_METADATA_DISABLED=true \
	CDK_DISABLE_CLI_TELEMETRY=true
CDK_FLAGS ?=

.PHONY: synth test-infra cdk-cli

## cdk-cli: the pinned CDK CLI (aws-cdk, see _tools/cdk/package.json) from its lockfile.
cdk-cli: $(CDK_CLI_DIR)/node_modules/.installed

$(CDK_CLI_DIR)/node_modules/.installed: $(CDK_CLI_DIR)/package.json $(CDK_CLI_DIR)/package-lock.json
	cd $(CDK_CLI_DIR) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

## synth: the CloudFormation template in cdk.out/, with cdk-nag's AwsSolutions checks (any
## unsuppressed finding fails). Needs no AWS account or credentials. Pass context with
## CDK_FLAGS='-c dailyCapCents=5000'.
synth: lambdas cdk-cli
	$(CDK_ENV) $(CDK) synth --quiet --no-notices $(CDK_FLAGS)

## test-infra: the CDK app's tests (template assertions, cdk-nag, ASL placeholders).
test-infra:
	cd infra && $(CDK_ENV) $(GO) test -count=1 ./...
