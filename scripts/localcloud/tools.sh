#!/bin/sh
# Installs the tools the local cloud (internal/localcloud) needs beyond Go and
# moto: aws-lambda-rie at the pinned version, into $GOBIN or $(go env GOPATH)/bin,
# where localcloud.FindRIE looks. Idempotent: a binary already built from the
# pinned module version is left alone. Also reports whether moto is importable.
set -eu

RIE_MODULE=github.com/aws/aws-lambda-runtime-interface-emulator
RIE_VERSION=v0.0.0-20261030222936-bef5c4ba774d

bin_dir=$(go env GOBIN)
if [ -z "$bin_dir" ]; then
	bin_dir="$(go env GOPATH | cut -d: -f1)/bin"
fi
rie="$bin_dir/aws-lambda-rie"

installed_version() {
	# `go version -m` prints "mod <module> <version> <sum>" for a go-installed binary.
	go version -m "$1" 2>/dev/null | awk -v m="$RIE_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

if [ -x "$rie" ] && [ "$(installed_version "$rie")" = "$RIE_VERSION" ]; then
	echo "aws-lambda-rie $RIE_VERSION already installed at $rie"
else
	echo "installing aws-lambda-rie $RIE_VERSION into $bin_dir"
	go install "$RIE_MODULE/cmd/aws-lambda-rie@$RIE_VERSION"
fi

if python3 -c 'import moto' 2>/dev/null; then
	echo "moto $(python3 -c 'import moto; print(moto.__version__)') found for python3"
else
	echo "moto is not installed for python3: pip install 'moto[server]==5.2.1' (integration tests skip without it)" >&2
fi
