package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/jsii-runtime-go"
)

// Job events (internal/batch/events.go, internal/eventbus): the task code puts one event per
// job change (completed, failed, paused, resumed, cancelled) on the account's default
// EventBridge bus, with this source and a detail-type such as "Batch Job Completed".
const (
	JobEventSource = "attom-batch"
	JobEventBus    = "default"
)

// jobEventFunctions are the functions whose task code emits job events: prepare (a job taken
// over from a dead driver resumes), poll (paused by the cap or by ATTOM), resume, complete
// and fail. The others never change a job's status in a way people are told about.
var jobEventFunctions = []string{FnPrepare, FnPoll, FnResume, FnComplete, FnFail}

// defaultBusARN is the ARN of this account's default event bus in the stack's region.
func defaultBusARN(stack awscdk.Stack) *string {
	return stack.FormatArn(&awscdk.ArnComponents{
		Service: jsii.String("events"), Resource: jsii.String("event-bus"),
		ResourceName: jsii.String(JobEventBus),
		ArnFormat:    awscdk.ArnFormat_SLASH_RESOURCE_NAME,
	})
}

// grantJobEvents lets the emitting functions put events on the default bus, and only there,
// and only with the attom-batch source (events:source condition); they are told the bus
// explicitly so the deployed value does not depend on the code's default.
func grantJobEvents(stack awscdk.Stack, r *resources) {
	bus := defaultBusARN(stack)
	for _, name := range jobEventFunctions {
		fn := r.functions[name]
		fn.AddEnvironment(jsii.String("ATTOM_BATCH_EVENT_BUS"), jsii.String(JobEventBus), nil)
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Actions:    jsii.Strings("events:PutEvents"),
			Resources:  &[]*string{bus},
			Conditions: &map[string]any{"StringEquals": map[string]any{"events:source": JobEventSource}},
		}))
	}
}

// newJobEventsEmail routes every job event on the default bus to an e-mail address: a rule
// matching the attom-batch source targets an SNS topic of its own (alarm subscribers do not
// get every job's events), encrypted with the alarm topic's key. The SnsTopic target adds
// what delivery needs: the topic policy lets events.amazonaws.com publish, and the key
// policy lets it use the key (kms:Decrypt, kms:GenerateDataKey*; a condition naming the
// rule's ARN would make the key depend on the rule, which depends on the key). Events the
// rule could not deliver after its retries go to the delivery DLQ, which is alarmed.
func newJobEventsEmail(stack awscdk.Stack, email string, key awskms.Key, dlq awssqs.Queue) (awssns.Topic, awsevents.Rule) {
	topic := awssns.NewTopic(stack, jsii.String("JobEventsTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("attom-batch job events"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	rule := awsevents.NewRule(stack, jsii.String("JobEventsRule"), &awsevents.RuleProps{
		Description: jsii.String("attom-batch job events (completed, failed, paused, resumed, cancelled) to e-mail"),
		EventBus:    awsevents.EventBus_FromEventBusName(stack, jsii.String("DefaultBus"), jsii.String(JobEventBus)),
		EventPattern: &awsevents.EventPattern{
			Source: jsii.Strings(JobEventSource),
		},
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewSnsTopic(topic, &awseventstargets.SnsTopicProps{
				DeadLetterQueue: dlq,
				RetryAttempts:   jsii.Number(20),
				MaxEventAge:     awscdk.Duration_Hours(jsii.Number(24)),
			}),
		},
	})
	return topic, rule
}
