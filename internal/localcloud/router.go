package localcloud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxPayload is Lambda's synchronous request payload limit (6 MB).
const maxPayload = 6 << 20

// router is the local cloud's single AWS endpoint. Lambda Invoke calls go to the
// function's aws-lambda-rie pool; everything else (S3, DynamoDB, Step Functions,
// Lambda control-plane calls...) is passed to moto unchanged.
type router struct {
	pools   map[string]*functionPool
	rules   []ObjectRule
	s3      *s3.Client // straight to moto: reads the objects rules deliver events for
	moto    *httputil.ReverseProxy
	client  *http.Client
	log     *log.Logger
	baseCtx context.Context // canceled by Close; bounds asynchronous (Event) invocations
}

// newRouter builds the handler in front of moto at motoURL.
func newRouter(ctx context.Context, motoURL *url.URL, pools map[string]*functionPool, rules []ObjectRule, logger *log.Logger) *router {
	proxy := httputil.NewSingleHostReverseProxy(motoURL)
	proxy.ErrorLog = logger
	return &router{
		pools:   pools,
		rules:   rules,
		s3:      s3.NewFromConfig(awsConfig(motoURL.String(), DefaultRegion), func(o *s3.Options) { o.UsePathStyle = true }),
		moto:    proxy,
		client:  &http.Client{}, // no timeout: a function may run up to its own timeout
		log:     logger,
		baseCtx: ctx,
	}
}

// ServeHTTP sends Invoke to the functions and the rest to moto; an object created where
// a rule watches is then delivered to the rule's function.
func (rt *router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if target, ok := invokeTarget(r); ok {
		rt.invoke(w, r, functionName(target))
		return
	}
	if rule, object, ok := rt.watchedObject(r); ok {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		rt.moto.ServeHTTP(rec, r)
		if rec.status == http.StatusOK {
			go rt.deliverObjectCreated(rule, object)
		}
		return
	}
	rt.moto.ServeHTTP(w, r)
}

// invokeTarget recognises POST /2015-03-31/functions/{FunctionName}/invocations and
// returns FunctionName unescaped (Step Functions passes the whole function ARN).
func invokeTarget(r *http.Request) (string, bool) {
	if r.Method != http.MethodPost {
		return "", false
	}
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if len(parts) != 5 || parts[1] != "2015-03-31" || parts[2] != "functions" || parts[4] != "invocations" {
		return "", false
	}
	name, err := url.PathUnescape(parts[3])
	if err != nil {
		return "", false
	}
	return name, true
}

// functionName reduces the forms Lambda accepts (name, name:qualifier, full or
// partial ARN with or without qualifier) to the bare function name.
func functionName(target string) string {
	if _, after, found := strings.Cut(target, "function:"); found {
		target = after
	}
	name, _, _ := strings.Cut(target, ":")
	return name
}

// invoke runs one invocation the way Lambda's Invoke API answers it.
func (rt *router) invoke(w http.ResponseWriter, r *http.Request, name string) {
	pool, ok := rt.pools[name]
	if !ok {
		known := make([]string, 0, len(rt.pools))
		for n := range rt.pools {
			known = append(known, n)
		}
		slices.Sort(known)
		writeAPIError(w, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("Function not found: %s (the local cloud runs: %s)", name, strings.Join(known, ", ")))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, maxPayload+1))
	if err != nil {
		writeAPIError(w, http.StatusBadRequest, "InvalidRequestContentException", "reading payload: "+err.Error())
		return
	}
	if len(payload) > maxPayload {
		writeAPIError(w, http.StatusRequestEntityTooLarge, "RequestTooLargeException", "payload over 6 MB")
		return
	}
	switch r.Header.Get("X-Amz-Invocation-Type") {
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	case "Event":
		go func() { _, _ = rt.run(rt.baseCtx, pool, payload) }()
		w.WriteHeader(http.StatusAccepted)
		return
	}
	if pool.reserved {
		rt.invokeReserved(w, r.Context(), pool, payload)
		return
	}
	result, err := rt.run(r.Context(), pool, payload)
	rt.answer(w, result, err)
}

// invokeReserved runs a synchronous invocation of a function with reserved concurrency
// on an idle emulator, or throttles it as Lambda does when every one is busy.
func (rt *router) invokeReserved(w http.ResponseWriter, ctx context.Context, pool *functionPool, payload []byte) {
	inst, ok := pool.tryAcquire()
	if !ok {
		rt.log.Printf("invoke %s: throttled: every one of its reserved instances is busy", pool.name)
		throttle(w)
		return
	}
	result, err := rt.runOn(ctx, pool, inst, payload)
	rt.answer(w, result, err)
}

// throttle answers as Lambda does an invocation beyond the function's reserved concurrency.
func throttle(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", "TooManyRequestsException")
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(map[string]string{
		"Type": "User", "message": "Rate Exceeded.", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded",
	})
}

// answer writes an invocation's result the way Lambda's Invoke API does.
func (rt *router) answer(w http.ResponseWriter, result invocationResult, err error) {
	if err != nil {
		writeAPIError(w, http.StatusServiceUnavailable, "ServiceException", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	w.Header().Set("X-Amzn-Requestid", requestID())
	if result.functionError {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(result.body)
}

// invocationResult is what a function answered and whether it was an error.
type invocationResult struct {
	body          []byte
	functionError bool
}

// run waits for an idle emulator of the function, invokes it, and classifies the answer.
func (rt *router) run(ctx context.Context, pool *functionPool, payload []byte) (invocationResult, error) {
	inst, err := pool.acquire(ctx)
	if err != nil {
		return invocationResult{}, fmt.Errorf("localcloud: %s: waiting for an idle emulator: %w", pool.name, err)
	}
	return rt.runOn(ctx, pool, inst, payload)
}

// runOn invokes the function on an emulator acquired from its pool, and releases it.
func (rt *router) runOn(ctx context.Context, pool *functionPool, inst *rieInstance, payload []byte) (invocationResult, error) {
	defer pool.release(inst)
	start := time.Now()
	status, body, err := rt.post(ctx, inst.invokeURL, payload)
	if err != nil {
		rt.log.Printf("invoke %s: %v", pool.name, err)
		return invocationResult{}, fmt.Errorf("localcloud: invoke %s: %w", pool.name, err)
	}
	result := classify(status, body)
	rt.log.Printf("invoke %s: %d bytes in, %d bytes out, function error %t, %s",
		pool.name, len(payload), len(result.body), result.functionError, time.Since(start).Round(time.Millisecond))
	return result, nil
}

// post sends one invocation to an emulator.
func (rt *router) post(ctx context.Context, invokeURL string, payload []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, invokeURL, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, err
	}
	resp, err := rt.client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, body, err
}

// classify turns an emulator answer into Lambda's. aws-lambda-rie answers a
// function error with HTTP 200 and the runtime's error document but without
// X-Amz-Function-Error, so the error document is recognised by its shape
// (aws-lambda-go's {"errorMessage","errorType"[,"stackTrace"]}); without the
// header Step Functions would treat the error as the task's output. An answer
// other than 200 means the runtime itself failed, reported as Lambda does.
func classify(status int, body []byte) invocationResult {
	if status != http.StatusOK {
		doc, _ := json.Marshal(map[string]string{
			"errorType":    "Runtime.ExitError",
			"errorMessage": fmt.Sprintf("aws-lambda-rie answered HTTP %d: %s", status, bytes.TrimSpace(body)),
		})
		return invocationResult{body: doc, functionError: true}
	}
	return invocationResult{body: body, functionError: isErrorDocument(body)}
}

// isErrorDocument reports whether body is a Lambda runtime error document: a JSON
// object with a non-empty errorType, an errorMessage, and no keys beyond those and
// stackTrace.
func isErrorDocument(body []byte) bool {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(body, &doc); err != nil {
		return false
	}
	if _, ok := doc["errorMessage"]; !ok {
		return false
	}
	var errorType string
	if err := json.Unmarshal(doc["errorType"], &errorType); err != nil || errorType == "" {
		return false
	}
	for key := range doc {
		if key != "errorMessage" && key != "errorType" && key != "stackTrace" {
			return false
		}
	}
	return true
}

// writeAPIError answers in the Lambda REST-JSON error format the SDKs decode.
func writeAPIError(w http.ResponseWriter, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-Errortype", code)
	w.Header().Set("X-Amzn-Requestid", requestID())
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Type": "User", "message": message})
}

// requestID makes a Lambda-looking request id for response headers and logs.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
