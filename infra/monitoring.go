package main

import (
	"fmt"
	"slices"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatchactions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssnssubscriptions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssqs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsstepfunctions"
	"github.com/aws/aws-cdk-go/awscdk/v2/interfaces/interfacesawscloudwatch"
	"github.com/aws/jsii-runtime-go"
)

// The spend metric the lookup function emits after each settlement: the UTC day's running
// total of reserved + settled ATTOM cents (a gauge, so the alarm reads its Maximum).
const (
	SpendMetricNamespace = "AttomBatch"
	SpendMetricName      = "SpentCents"
)

// newAlarmTopic is where every alarm goes. CloudWatch cannot publish to a topic encrypted
// with the AWS managed aws/sns key, so the topic has its own rotating key that CloudWatch
// may use (the job-events topic, when there is one, shares it: see newJobEventsEmail).
func newAlarmTopic(stack awscdk.Stack, email string) (awssns.Topic, awskms.Key) {
	key := awskms.NewKey(stack, jsii.String("AlarmTopicKey"), &awskms.KeyProps{
		Description:       jsii.String("attom-batch alarm topic encryption"),
		EnableKeyRotation: jsii.Bool(true),
	})
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("AllowCloudWatchAlarmsToPublish"),
		Principals: &[]awsiam.IPrincipal{awsiam.NewServicePrincipal(jsii.String("cloudwatch.amazonaws.com"), nil)},
		Actions:    jsii.Strings("kms:Decrypt", "kms:GenerateDataKey*"),
		Resources:  jsii.Strings("*"),
	}), nil)
	topic := awssns.NewTopic(stack, jsii.String("AlarmTopic"), &awssns.TopicProps{
		DisplayName: jsii.String("attom-batch alarms"),
		MasterKey:   key,
		EnforceSSL:  jsii.Bool(true),
	})
	if email != "" {
		topic.AddSubscription(awssnssubscriptions.NewEmailSubscription(jsii.String(email), nil))
	}
	return topic, key
}

// newDeliveryDLQ keeps events that EventBridge or Scheduler could not deliver after their
// retries (an upload whose pipeline never started, a refresh that never ran, a job event
// the e-mail topic did not take).
func newDeliveryDLQ(stack awscdk.Stack) awssqs.Queue {
	return awssqs.NewQueue(stack, jsii.String("DeliveryDLQ"), &awssqs.QueueProps{
		Encryption:      awssqs.QueueEncryption_SQS_MANAGED,
		EnforceSSL:      jsii.Bool(true),
		RetentionPeriod: awscdk.Duration_Days(jsii.Number(14)),
	})
}

// monitoring holds what the alarms watch.
type monitoring struct {
	topic    awssns.Topic
	pipeline awsstepfunctions.StateMachine
	lookup   awsstepfunctions.StateMachine
	dlq      awssqs.Queue
	settings Settings
}

// addAlarms creates every alarm, each notifying the topic, and returns them for the dashboard.
func addAlarms(stack awscdk.Stack, r *resources, m monitoring) []awscloudwatch.Alarm {
	action := awscloudwatchactions.NewSnsAction(m.topic)
	var alarms []awscloudwatch.Alarm
	add := func(id, description string, metric awscloudwatch.Metric, threshold float64) {
		alarm := metric.CreateAlarm(stack, jsii.String(id), &awscloudwatch.CreateAlarmOptions{
			AlarmDescription:   jsii.String(description),
			Threshold:          jsii.Number(threshold),
			EvaluationPeriods:  jsii.Number(1),
			ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
			TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
		})
		alarm.AddAlarmAction(action)
		alarms = append(alarms, alarm)
	}
	sum5 := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}

	add("PipelineFailedAlarm", "A batch pipeline execution failed (the job keeps its error; re-drive it)", m.pipeline.MetricFailed(sum5), 1)
	add("PipelineTimedOutAlarm", "A batch pipeline execution timed out", m.pipeline.MetricTimedOut(sum5), 1)
	add("LookupFailedAlarm", "An ATTOM lookup execution failed", m.lookup.MetricFailed(sum5), 1)
	add("LookupTimedOutAlarm", "An ATTOM lookup execution timed out", m.lookup.MetricTimedOut(sum5), 1)
	for _, name := range sortedFunctionNames(r) {
		fn := r.functions[name]
		id := functionID(name)
		add(id+"ErrorsAlarm", fmt.Sprintf("The %s function returned errors", name), fn.MetricErrors(sum5), 1)
		add(id+"ThrottlesAlarm", fmt.Sprintf("The %s function was throttled", name), fn.MetricThrottles(sum5), 1)
	}
	add("SpendNearCapAlarm",
		fmt.Sprintf("ATTOM spend today reached 80%% of the daily cap (%d of %d cents); jobs pause at the cap until 00:00 UTC",
			int(m.settings.DailyCapAlarmThresholdCents()), m.settings.DailyCapCents),
		spendMetric(), m.settings.DailyCapAlarmThresholdCents())
	add("DeliveryDLQAlarm", "An upload, import, scheduled refresh or job-event e-mail could not be delivered or failed; see the DLQ",
		m.dlq.MetricApproximateNumberOfMessagesVisible(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Maximum"), Period: awscdk.Duration_Minutes(jsii.Number(5)),
		}), 1)
	return alarms
}

// spendMetric is the day's running ATTOM spend in cents.
func spendMetric() awscloudwatch.Metric {
	return awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
		Namespace:  jsii.String(SpendMetricNamespace),
		MetricName: jsii.String(SpendMetricName),
		Statistic:  jsii.String("Maximum"),
		Period:     awscdk.Duration_Minutes(jsii.Number(5)),
	})
}

// addDashboard shows at a glance: are jobs flowing, is ATTOM being called at the rate, how
// close is today's spend to the cap, and which alarms fire.
func addDashboard(stack awscdk.Stack, r *resources, m monitoring, alarms []awscloudwatch.Alarm) awscloudwatch.Dashboard {
	sum5 := &awscloudwatch.MetricOptions{Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5))}
	lookupFn := r.functions[FnLookupChunk]
	var errors []awscloudwatch.IMetric
	for _, name := range sortedFunctionNames(r) {
		errors = append(errors, r.functions[name].MetricErrors(&awscloudwatch.MetricOptions{
			Statistic: jsii.String("Sum"), Period: awscdk.Duration_Minutes(jsii.Number(5)), Label: jsii.String(name),
		}))
	}
	alarmables := make([]interfacesawscloudwatch.IAlarmRef, len(alarms))
	for i, a := range alarms {
		alarmables[i] = a
	}
	dashboard := awscloudwatch.NewDashboard(stack, jsii.String("Dashboard"), &awscloudwatch.DashboardProps{
		DashboardName:   stack.StackName(),
		DefaultInterval: awscdk.Duration_Days(jsii.Number(1)),
	})
	dashboard.AddWidgets(
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Pipeline executions"), Width: jsii.Number(8),
			Left: &[]awscloudwatch.IMetric{m.pipeline.MetricStarted(sum5), m.pipeline.MetricSucceeded(sum5), m.pipeline.MetricFailed(sum5)},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("ATTOM lookups (chunk invocations, duration)"), Width: jsii.Number(8),
			Left:  &[]awscloudwatch.IMetric{lookupFn.MetricInvocations(sum5)},
			Right: &[]awscloudwatch.IMetric{lookupFn.MetricDuration(nil)},
		}),
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("ATTOM spend today (cents)"), Width: jsii.Number(8),
			Left: &[]awscloudwatch.IMetric{spendMetric()},
			LeftAnnotations: &[]*awscloudwatch.HorizontalAnnotation{
				{Value: jsii.Number(float64(m.settings.DailyCapCents)), Label: jsii.String("daily cap")},
				{Value: jsii.Number(m.settings.DailyCapAlarmThresholdCents()), Label: jsii.String("alarm (80%)")},
			},
		}),
	)
	dashboard.AddWidgets(
		awscloudwatch.NewGraphWidget(&awscloudwatch.GraphWidgetProps{
			Title: jsii.String("Function errors"), Width: jsii.Number(12), Left: &errors,
		}),
		awscloudwatch.NewAlarmStatusWidget(&awscloudwatch.AlarmStatusWidgetProps{
			Title: jsii.String("Alarms"), Width: jsii.Number(12), Alarms: &alarmables,
		}),
	)
	return dashboard
}

// sortedFunctionNames gives alarms and widgets a stable order (map order would reshuffle
// the template on every synth).
func sortedFunctionNames(r *resources) []string {
	names := make([]string, 0, len(r.functions))
	for name := range r.functions {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}
