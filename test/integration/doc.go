// Package integration is the integration tier (`make test-integration`): the project's real
// Lambda bootstraps under both real state machine definitions on moto's Step Functions
// engine, through internal/localcloud, with no Docker. Its tests carry the build tag
// `integration`; without the tag this package is empty.
//
// The tests prove three things: an upload runs end to end (DynamoDB, S3 and the ATTOM
// simulator's ledger agree with the job's counts); the project's own runner and moto's engine
// take the same path through pipeline.asl.json in every workflow scenario; and the CLI with
// --backend aws drives the deployed shape (submit, status, list, download).
package integration
