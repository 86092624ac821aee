package statemachine

import _ "embed"

// PipelineDefinition is batch-pipeline: the workflow one uploaded CSV goes through. AWS runs
// this file (the CDK stack reads it); the local runner runs the same bytes.
//
//go:embed pipeline.asl.json
var PipelineDefinition []byte

// LookupDefinition is attom-lookup: the Distributed Map over a job's address chunks.
//
//go:embed lookup.asl.json
var LookupDefinition []byte

// Placeholder names of the task functions, as they appear in the definitions
// (${PrepareFunctionArn} ...) and in the CDK stack's DefinitionSubstitutions.
var FunctionPlaceholders = map[string]string{
	"prepare":     "PrepareFunctionArn",
	"submit":      "SubmitFunctionArn",
	"poll":        "PollFunctionArn",
	"resume":      "ResumeFunctionArn",
	"download":    "DownloadFunctionArn",
	"process":     "ProcessFunctionArn",
	"leads":       "LeadsFunctionArn",
	"complete":    "CompleteFunctionArn",
	"fail":        "FailFunctionArn",
	"lookupchunk": "LookupChunkFunctionArn",
}
