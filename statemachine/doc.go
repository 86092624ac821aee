// Package statemachine is a small local interpreter for the Amazon States
// Language. It runs the very same *.asl.json definitions that AWS Step
// Functions runs, dispatching Task resources to in-process Go functions, so
// the batch workflow can run end to end on one machine and in tests without
// sleeping (an injectable Clock drives Wait states, retry backoff and
// timeouts).
//
// The runner supports a deliberate subset of ASL (JSONPath query language):
// Task, Pass, Wait, Choice, Map (inline and Distributed with an S3 JSON
// ItemReader), Succeed and Fail, with the full input/output processing chain
// (InputPath, Parameters, ResultSelector, ResultPath, OutputPath), Retry,
// Catch, the JSONPath subset $, $.a.b, $.a[0], $['a'] and the intrinsic
// functions. Load refuses anything else with an error naming the state and
// the field, so a definition that loads here runs here the way it runs on AWS.
package statemachine
