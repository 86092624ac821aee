// Package localcloud runs the project's real Lambda binaries under the real
// Step Functions definitions on one machine with no Docker: moto's server (S3,
// DynamoDB, EventBridge... and its Step Functions engine, a port of
// LocalStack's) plus every function's bootstrap under aws-lambda-rie, joined by
// a small invoke router that is the cloud's single endpoint.
//
// # How it fits together
//
//	SDK / awscli ──► router 127.0.0.1:R ──POST /2015-03-31/functions/{name}/invocations──► aws-lambda-rie pool ──► bootstrap
//	                       │                                                               (one per function, N instances)
//	                       └── everything else (reverse proxy) ──► moto 127.0.0.1:P
//	moto's engine ── every task's AWS call (Lambda, S3 ItemReader, DynamoDB...) ──► localhost:$MOTO_PORT = R
//
// moto's engine makes each task's AWS call with boto3 at
// http://localhost:$MOTO_PORT (moto/stepfunctions/parser/asl/utils/boto_client.py),
// and moto's own Lambda runs code only in Docker. moto keeps a MOTO_PORT that is
// already set, so moto listens on P with MOTO_PORT=R: Lambda tasks reach the
// router, which runs them on the real bootstraps, and S3/DynamoDB calls come
// back through the router to moto. The functions need not exist in moto's
// Lambda backend: the engine invokes by ARN without looking them up.
//
// # The router
//
// Invoke (FunctionName as a name, name:qualifier or full/partial ARN, as the
// engine sends the Task's Resource ARN) goes to a free aws-lambda-rie instance
// of that function; an invocation waits while all of them are busy, because
// rie panics on overlapping invocations (Options.InstancesPerFunction sets the
// pool size). rie answers a function error with HTTP 200 and no
// X-Amz-Function-Error; the router recognises aws-lambda-go's error document
// ({"errorMessage","errorType"[,"stackTrace"]} and nothing else) and adds
// X-Amz-Function-Error: Unhandled, so the engine fails the task with the Go
// error type name (what ASL Retry/Catch ErrorEquals match). InvocationType
// Event (202, run in the background) and DryRun (204) are honoured. An unknown
// function gets 404 ResourceNotFoundException naming the functions that exist.
//
// # moto 5.2.1's pickle bug
//
// moto 5.2.1 deep-copies the state machine on every StartExecution, including
// its earlier executions (live threads and locks) and the backend, so every
// StartExecution after the first fails with "cannot pickle '_thread.RLock'".
// scripts/localcloud/moto_launcher.py fixes it at import time, as upstream did
// in 5.2.3 (getmoto/moto#10093): the copy is seeded with a memo that leaves the
// executions out and shares the backend. The launcher also turns on
// execute_state_machine and, unless Options.ParallelMoto, handles one request
// at a time (moto's DynamoDB loses concurrent conditional updates to one item).
//
// # Processes
//
// Every child runs in its own process group with a parent-death signal, so a
// crashed test binary leaves nothing behind; Close sends SIGTERM to each group
// (rie then kills its bootstrap, which it starts in a group of its own), SIGKILL
// after five seconds, and kills any descendant still alive. Ports are free ports
// chosen at start-up. Logs go to Options.LogDir: moto.log, router.log (one line
// per invocation) and rie-NAME-N.log (the emulator and its bootstrap's output).
//
// # Use
//
//	bootstrap, _ := localcloud.BuildBootstrap(ctx, "./functions/prepare", t.TempDir())
//	cloud := localcloud.StartForTest(t, localcloud.Options{Functions: map[string]string{"prepare": bootstrap}})
//	sfnClient := sfn.NewFromConfig(cloud.AWSConfig())
//	// definition Resource: cloud.FunctionARN("prepare"); executions need an explicit Name.
//
// Needs python3 with moto and aws-lambda-rie (`make tools`); tests skip only
// when moto is missing. Linux only (process groups, /proc). See docs/local-cloud.md.
package localcloud
