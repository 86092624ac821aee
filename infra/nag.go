package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// ApplyNagChecks runs cdk-nag's AwsSolutions pack over scope at synth: the CLI then fails on
// any unsuppressed finding, and tests read the findings as annotations.
func ApplyNagChecks(scope constructs.IConstruct) {
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// addNagSuppressions records, with its reason, every AwsSolutions finding the stack accepts.
func addNagSuppressions(stack awscdk.Stack) {
}
