package statemachine

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/lambda/messages"
)

// machine wraps states in a minimal definition starting at A.
func machine(states string) string {
	return `{"StartAt":"A","States":{` + states + `}}`
}

func TestLoadRefusesWhatItCannotRun(t *testing.T) {
	tests := []struct {
		name string
		def  string
		want []string
	}{
		{"parallel", machine(`"A":{"Type":"Parallel","Branches":[],"End":true}`), []string{`state "A": Type "Parallel" is not supported by the local runner`}},
		{"unknown type", machine(`"A":{"Type":"Sleep","End":true}`), []string{`state "A"`, `Type "Sleep" is not a state type`}},
		{"missing StartAt", `{"States":{"A":{"Type":"Succeed"}}}`, []string{`field "StartAt": is required`}},
		{"StartAt target", `{"StartAt":"B","States":{"A":{"Type":"Succeed"}}}`, []string{`"StartAt": state "B" does not exist`}},
		{"unknown Next", machine(`"A":{"Type":"Pass","Next":"Nowhere"}`), []string{`state "A": field "Next": target state "Nowhere" does not exist`}},
		{"unreachable", machine(`"A":{"Type":"Succeed"},"B":{"Type":"Succeed"}`), []string{`state "B": not reachable`}},
		{"no Next or End", machine(`"A":{"Type":"Pass"}`), []string{`state "A": field "Next": a Pass state needs Next or "End": true`}},
		{"Next and End", machine(`"A":{"Type":"Pass","Next":"A","End":true}`), []string{`both Next and End`}},
		{"Choice without Choices", machine(`"A":{"Type":"Choice","Default":"B"},"B":{"Type":"Succeed"}`), []string{`state "A": field "Choices"`}},
		{"Choice rule without Next", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.x","IsNull":true}]}`), []string{`Choices[0]: field "Next": is required`}},
		{"Choice operator", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.x","StringContains":"a","Next":"A"}],"Default":"B"},"B":{"Type":"Succeed"}`), []string{`"StringContains" is not a supported choice operator`}},
		{"Choice operand type", machine(`"A":{"Type":"Choice","Choices":[{"Variable":"$.x","NumericEquals":"1","Next":"B"}]},"B":{"Type":"Succeed"}`), []string{`field "NumericEquals": has the wrong type`}},
		{"Choice with Next", machine(`"A":{"Type":"Choice","Next":"B","Choices":[{"Variable":"$.x","IsNull":true,"Next":"B"}]},"B":{"Type":"Succeed"}`), []string{`state "A": field "Next": is not a valid field here`}},
		{"unknown field", machine(`"A":{"Type":"Pass","Nxt":"A","End":true}`), []string{`state "A": field "Nxt": is not a valid field here`}},
		{"unsupported field", machine(`"A":{"Type":"Task","Resource":"r","Credentials":{},"End":true}`), []string{`state "A": field "Credentials": is not supported by the local runner`}},
		{"JSONata", `{"QueryLanguage":"JSONata","StartAt":"A","States":{"A":{"Type":"Succeed"}}}`, []string{`only JSONPath is supported`}},
		{"filter path", machine(`"A":{"Type":"Pass","InputPath":"$.items[?(@.x)]","End":true}`), []string{`state "A": field "InputPath"`, `only $, $.a.b, $.a[0] and $['a'] are supported`}},
		{"wildcard path", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"$.items[*].id"},"End":true}`), []string{`field "Parameters"`, `[*] is not a non-negative array index`}},
		{"recursive descent", machine(`"A":{"Type":"Pass","OutputPath":"$..id","End":true}`), []string{`recursive descent`}},
		{"ResultPath index", machine(`"A":{"Type":"Pass","ResultPath":"$.a[0]","End":true}`), []string{`field "ResultPath"`, `reference path`}},
		{"dynamic key not string", machine(`"A":{"Type":"Pass","Parameters":{"x.$":3},"End":true}`), []string{`"Parameters.x.$"`, `needs a path or intrinsic string`}},
		{"unknown intrinsic", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"States.Nope($.a)"},"End":true}`), []string{`unknown or unsupported intrinsic function "States.Nope"`}},
		{"intrinsic arity", machine(`"A":{"Type":"Pass","Parameters":{"x.$":"States.MathAdd(1)"},"End":true}`), []string{`States.MathAdd takes 2 arguments, got 1`}},
		{"BackoffRate below 1", machine(`"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"BackoffRate":0.5}],"End":true}`), []string{`state "A": Retry[0]: field "BackoffRate": must be at least 1.0, got 0.5`}},
		{"States.ALL not last", machine(`"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["States.ALL"]},{"ErrorEquals":["X"]}],"End":true}`), []string{`States.ALL must be the only error name`}},
		{"States.ALL mixed", machine(`"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["States.ALL","X"],"Next":"A"}],"End":true}`), []string{`Catch[0]: field "ErrorEquals": States.ALL must be the only`}},
		{"jitter", machine(`"A":{"Type":"Task","Resource":"r","Retry":[{"ErrorEquals":["X"],"JitterStrategy":"HALF"}],"End":true}`), []string{`must be FULL or NONE`}},
		{"Catch target", machine(`"A":{"Type":"Task","Resource":"r","Catch":[{"ErrorEquals":["X"],"Next":"Z"}],"End":true}`), []string{`field "Catch[0].Next": target state "Z" does not exist`}},
		{"callback pattern", machine(`"A":{"Type":"Task","Resource":"arn:aws:states:::sqs:sendMessage.waitForTaskToken","End":true}`), []string{`.waitForTaskToken) is not supported`}},
		{"lambda invoke needs FunctionName", machine(`"A":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke","Parameters":{"Payload":{}},"End":true}`), []string{`needs Parameters.FunctionName`}},
		{"Wait with two fields", machine(`"A":{"Type":"Wait","Seconds":1,"SecondsPath":"$.s","End":true}`), []string{`exactly one of Seconds`}},
		{"Wait negative", machine(`"A":{"Type":"Wait","Seconds":-1,"End":true}`), []string{`field "Seconds": must be a whole number`}},
		{"Wait timestamp", machine(`"A":{"Type":"Wait","Timestamp":"2026-01-01 00:00","End":true}`), []string{`is not an RFC 3339 timestamp`}},
		{"Map without processor", machine(`"A":{"Type":"Map","End":true}`), []string{`state "A": field "ItemProcessor": a Map state needs`}},
		{"Map nested error", machine(`"A":{"Type":"Map","ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Parallel","End":true}}},"End":true}`), []string{`state "A" > "B": Type "Parallel" is not supported`}},
		{"Map inner unknown Next", machine(`"A":{"Type":"Map","Iterator":{"StartAt":"B","States":{"B":{"Type":"Pass","Next":"A"}}},"End":true}`), []string{`state "A" > "B": field "Next": target state "A" does not exist`}},
		{"ItemReader on inline Map", machine(`"A":{"Type":"Map","ItemReader":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), []string{`field "ItemReader": is only allowed in a Map whose`}},
		{"EXPRESS children", machine(`"A":{"Type":"Map","ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"EXPRESS"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), []string{`field "ExecutionType": EXPRESS is not supported`}},
		{"ItemBatcher", machine(`"A":{"Type":"Map","ItemBatcher":{},"ItemProcessor":{"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), []string{`field "ItemBatcher": is not supported by the local runner`}},
		{"CSV reader", machine(`"A":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:getObject","ReaderConfig":{"InputType":"CSV"},"Parameters":{"Bucket":"b","Key":"k"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), []string{`field "InputType": only JSON is supported`}},
		{"listObjects reader", machine(`"A":{"Type":"Map","ItemReader":{"Resource":"arn:aws:states:::s3:listObjectsV2","ReaderConfig":{"InputType":"JSON"},"Parameters":{"Bucket":"b","Key":"k"}},
			"ItemProcessor":{"ProcessorConfig":{"Mode":"DISTRIBUTED","ExecutionType":"STANDARD"},"StartAt":"B","States":{"B":{"Type":"Succeed"}}},"End":true}`), []string{`field "Resource": only arn:aws:states:::s3:getObject is supported`}},
		{"duplicate key", `{"StartAt":"A","States":{"A":{"Type":"Succeed"},
"A":{"Type":"Succeed"}}}`, []string{`line 2`, `duplicate key "A"`}},
		{"syntax", "{\"StartAt\":\"A\",\n\"States\":{,}}", []string{`line 2, column`, `invalid JSON`}},
		{"no terminal", machine(`"A":{"Type":"Pass","Next":"A"}`), []string{`no state ends the machine`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Load([]byte(tt.def), nil)
			if m != nil {
				t.Fatalf("loaded a definition that should be refused")
			}
			assertErrorContains(t, err, tt.want...)
		})
	}
}

func TestLoadNamesUnsubstitutedPlaceholders(t *testing.T) {
	def := `{"StartAt":"A","States":{"A":{"Type":"Task","Resource":"${FnArn}","Next":"W"},"W":{"Type":"Wait","Seconds":${Secs},"End":true}}}`
	_, err := Load([]byte(def), map[string]string{"Other": "x"})
	assertErrorContains(t, err, "no substitution given for ${FnArn}, ${Secs}")
	m, err := Load([]byte(def), map[string]string{"FnArn": "arn:aws:lambda:us-east-1:1:function:f", "Secs": "5"})
	if err != nil {
		t.Fatal(err)
	}
	if m.def.states["A"].resource != "arn:aws:lambda:us-east-1:1:function:f" || m.def.states["W"].wait.seconds != 5 {
		t.Fatalf("substitution not applied")
	}
}

func TestLoadFileNamesTheFile(t *testing.T) {
	_, err := LoadFile("testdata/poll_loop.asl.json", nil)
	assertErrorContains(t, err, "testdata/poll_loop.asl.json: definition: no substitution given for ${PollFunctionArn}, ${PollSeconds}, ${PrepareFunctionArn}")
}

func TestLambdaErrorTypeMirrorsAWSLambdaGo(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&AttomUnavailable{Status: 503}, "AttomUnavailable"},
		{BudgetExhausted{}, "BudgetExhausted"},
		{fmt.Errorf("lookup: %w", &AttomUnavailable{}), "wrapError"},
		{fmt.Errorf("two: %w %w", BudgetExhausted{}, &AttomUnavailable{}), "wrapErrors"},
		{errors.New("plain"), "errorString"},
		{fmt.Errorf("no wrap"), "errorString"},
		{errors.Join(BudgetExhausted{}), "joinError"},
		{messages.InvokeResponse_Error{Type: "InvalidInput", Message: "bad row"}, "InvalidInput"},
	}
	for _, tt := range tests {
		if got := LambdaErrorType(tt.err); got != tt.want {
			t.Errorf("LambdaErrorType(%T) = %q, want %q", tt.err, got, tt.want)
		}
	}
	se := taskError(messages.InvokeResponse_Error{Type: "InvalidInput", Message: "bad row"})
	if se.Name != "InvalidInput" || se.Cause != `{"errorMessage":"bad row","errorType":"InvalidInput"}` {
		t.Fatalf("taskError = %+v", se)
	}
}

func TestErrorMatching(t *testing.T) {
	tests := []struct {
		names []string
		err   string
		want  bool
	}{
		{[]string{"X"}, "X", true},
		{[]string{"X"}, "Y", false},
		{[]string{StatesALL}, "Y", true},
		{[]string{StatesALL}, StatesTimeout, true},
		{[]string{StatesALL}, StatesRuntime, false},
		{[]string{StatesALL}, StatesDataLimitExceeded, false},
		{[]string{StatesTaskFailed}, "Y", true},
		{[]string{StatesTaskFailed}, StatesTimeout, false},
		{[]string{StatesTimeout}, StatesTimeout, true},
	}
	for _, tt := range tests {
		if got := errorMatches(tt.names, tt.err); got != tt.want {
			t.Errorf("errorMatches(%v, %q) = %v", tt.names, tt.err, got)
		}
	}
}

func TestTestdataDefinitionsAllLoad(t *testing.T) {
	subs := map[string]string{"Tolerated": "0"}
	for k, v := range pollSubs {
		subs[k] = v
	}
	for _, k := range []string{"EchoArn", "FlakyArn", "LookupArn", "Bucket"} {
		subs[k] = "arn:aws:lambda:us-east-1:123456789012:function:" + strings.ToLower(k)
	}
	for _, name := range []string{"poll_loop", "io", "choice", "retry", "map_inline", "map_legacy", "map_distributed", "wait", "loop"} {
		if _, err := LoadFile("testdata/"+name+".asl.json", subs); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
