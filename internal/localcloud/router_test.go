package localcloud

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestInvokeTarget(t *testing.T) {
	tests := []struct {
		method, path string
		want         string
		ok           bool
	}{
		{"POST", "/2015-03-31/functions/hello/invocations", "hello", true},
		{"POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Ahello/invocations", "arn:aws:lambda:us-east-1:123456789012:function:hello", true},
		{"GET", "/2015-03-31/functions/hello/invocations", "", false},
		{"POST", "/2015-03-31/functions/hello", "", false},
		{"POST", "/2015-03-31/functions/hello/configuration", "", false},
		{"POST", "/bucket/2015-03-31/functions/hello/invocations", "", false},
		{"POST", "/", "", false},
	}
	for _, tt := range tests {
		got, ok := invokeTarget(httptest.NewRequest(tt.method, tt.path, nil))
		if got != tt.want || ok != tt.ok {
			t.Errorf("invokeTarget(%s %s) = %q, %t; want %q, %t", tt.method, tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFunctionName(t *testing.T) {
	tests := map[string]string{
		"hello":                       "hello",
		"hello:$LATEST":               "hello",
		"hello:live":                  "hello",
		"123456789012:function:hello": "hello",
		"arn:aws:lambda:us-east-1:123456789012:function:hello":    "hello",
		"arn:aws:lambda:us-east-1:123456789012:function:hello:7":  "hello",
		"arn:aws-us-gov:lambda:us-gov-west-1:1:function:my-fn:v2": "my-fn",
	}
	for in, want := range tests {
		if got := functionName(in); got != want {
			t.Errorf("functionName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		wantError bool
		wantBody  string
	}{
		{"plain output", 200, `{"echo":{"a":1}}`, false, `{"echo":{"a":1}}`},
		{"aws-lambda-go error", 200, `{"errorMessage":"boom","errorType":"HelloFailed"}`, true, `{"errorMessage":"boom","errorType":"HelloFailed"}`},
		{"error with stack", 200, `{"errorMessage":"boom","errorType":"X","stackTrace":[]}`, true, `{"errorMessage":"boom","errorType":"X","stackTrace":[]}`},
		{"output that merely has the keys", 200, `{"errorMessage":"m","errorType":"T","id":3}`, false, `{"errorMessage":"m","errorType":"T","id":3}`},
		{"empty error type", 200, `{"errorMessage":"m","errorType":""}`, false, `{"errorMessage":"m","errorType":""}`},
		{"string output", 200, `"done"`, false, `"done"`},
		{"null output", 200, `null`, false, `null`},
		{"runtime failure", 500, "crashed\n", true, `{"errorMessage":"aws-lambda-rie answered HTTP 500: crashed","errorType":"Runtime.ExitError"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify(tt.status, []byte(tt.body))
			if got.functionError != tt.wantError || string(got.body) != tt.wantBody {
				t.Errorf("classify(%d, %s) = %s, error %t; want %s, error %t", tt.status, tt.body, got.body, got.functionError, tt.wantBody, tt.wantError)
			}
		})
	}
}

func TestWithDefaultsRejectsARNAsName(t *testing.T) {
	_, err := withDefaults(Options{Functions: map[string]string{"arn:aws:lambda:us-east-1:1:function:x": "/bin/true"}, LogDir: t.TempDir()})
	if err == nil {
		t.Fatal("withDefaults accepted an ARN as a function name")
	}
}

func TestStartFailsOnMissingBootstrapAndLeavesNothing(t *testing.T) {
	missing := t.TempDir() + "/no-such/bootstrap"
	cloud, err := Start(t.Context(), Options{Functions: map[string]string{"ghost": missing}, LogDir: t.TempDir()})
	if err == nil {
		cloud.Close()
		t.Fatal("Start succeeded with a missing bootstrap")
	}
	if !strings.Contains(err.Error(), "ghost") && !errors.Is(err, ErrNoRIE) {
		t.Errorf("error %q does not name the function", err)
	}
}

func TestWatchedObject(t *testing.T) {
	rt := &router{rules: []ObjectRule{
		{Bucket: "b", Prefix: "incoming/", Suffix: ".csv", Function: "start"},
		{Bucket: "b", Prefix: "imports/", Suffix: ".csv", Function: "import"},
	}}
	tests := []struct {
		method, target string
		want           string // the function, "" for none
	}{
		{"PUT", "/b/incoming/list.csv", "start"},
		{"PUT", "/b/incoming/my%20list.csv", "start"},
		{"PUT", "/b/imports/county/x.csv", "import"},
		{"POST", "/b/incoming/big.csv?uploadId=u1", "start"},        // CompleteMultipartUpload
		{"PUT", "/b/incoming/big.csv?partNumber=1&uploadId=u1", ""}, // a part, not the object
		{"POST", "/b/incoming/big.csv?uploads", ""},                 // CreateMultipartUpload
		{"PUT", "/b/incoming/list.csv?tagging", ""},
		{"GET", "/b/incoming/list.csv", ""},
		{"DELETE", "/b/incoming/list.csv", ""},
		{"PUT", "/b/incoming/list.txt", ""},
		{"PUT", "/b/batches/incoming/list.csv", ""},
		{"PUT", "/other/incoming/list.csv", ""},
		{"PUT", "/b", ""}, // CreateBucket
	}
	for _, tt := range tests {
		rule, obj, ok := rt.watchedObject(httptest.NewRequest(tt.method, tt.target, nil))
		if got := rule.Function; got != tt.want || ok != (tt.want != "") {
			t.Errorf("%s %s: rule %q (ok %t), want %q", tt.method, tt.target, got, ok, tt.want)
		}
		if ok && (obj.bucket != "b" || strings.Contains(obj.key, "%")) {
			t.Errorf("%s %s: object %+v, want bucket b and an unescaped key", tt.method, tt.target, obj)
		}
	}
}
