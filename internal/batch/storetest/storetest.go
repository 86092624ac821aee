// Package storetest is the conformance suite every backend's stores pass: the embedded
// SQLite and directory stores and the AWS DynamoDB and S3 stores run the same tests, so the
// batch code can rely on one meaning of each port method. It uses only the ports.
//
// Requirements on newStores: every call returns stores holding no data (fresh tables, a new
// file, an empty bucket), and Budget is capped at a positive number of cents for every day.
// A nil port in the returned Stores skips that port's tests, so an adapter can be brought up
// one port at a time.
package storetest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/leadflow/attom-batch/internal/batch"
	"github.com/leadflow/attom-batch/internal/budget"
)

// Run runs every conformance test against the stores newStores builds.
func Run(t *testing.T, newStores func(t *testing.T) batch.Stores) {
	t.Run("Jobs", func(t *testing.T) {
		RunJobs(t, func(t *testing.T) batch.JobStore { return need(t, newStores(t).Jobs) })
	})
	t.Run("Lookups", func(t *testing.T) {
		RunLookups(t, func(t *testing.T) batch.LookupStore { return need(t, newStores(t).Lookups) })
	})
	t.Run("Properties", func(t *testing.T) {
		RunProperties(t, func(t *testing.T) batch.PropertyStore { return need(t, newStores(t).Properties) })
	})
	t.Run("Leads", func(t *testing.T) {
		RunLeads(t, func(t *testing.T) batch.LeadStore { return need(t, newStores(t).Leads) })
	})
	t.Run("Blobs", func(t *testing.T) {
		RunBlobs(t, func(t *testing.T) batch.BlobStore { return need(t, newStores(t).Blobs) })
	})
	t.Run("Answers", func(t *testing.T) {
		RunAnswers(t, func(t *testing.T) batch.AnswerStore { return need(t, newStores(t).Answers) })
	})
	t.Run("Leases", func(t *testing.T) {
		RunLeases(t, func(t *testing.T) batch.LeaseStore { return need(t, newStores(t).Leases) })
	})
	t.Run("Budget", func(t *testing.T) {
		RunBudget(t, func(t *testing.T) budget.Budget { return need(t, newStores(t).Budget) })
	})
}

// need skips the test when the backend does not provide the port.
func need[P any](t *testing.T, port P) P {
	t.Helper()
	if reflect.ValueOf(&port).Elem().IsNil() {
		t.Skipf("%T not provided by this backend", port)
	}
	return port
}

// uniq makes ids unique per test, so the suite also tolerates stores shared between tests.
func uniq(prefix string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

// zone is a non-UTC location: values written in it must come back as the same instant in UTC.
var zone = time.FixedZone("UTC-5", -5*3600)

// base is a fixed instant with nanoseconds, so a store that truncates precision fails.
var base = time.Date(2026, 3, 14, 9, 26, 53, 589793238, zone)

// diff compares want and got as values: times by instant, nil and empty slices or maps alike.
func diff(want, got any) string {
	return cmp.Diff(want, got, cmpopts.EquateEmpty())
}

// requireUTC fails for every time.Time reachable in v that is not in UTC.
func requireUTC(t *testing.T, what string, v any) {
	t.Helper()
	walkTimes(reflect.ValueOf(v), what, func(path string, tm time.Time) {
		if tm.Location() != time.UTC {
			t.Errorf("%s: time %v is in %v, want UTC", path, tm, tm.Location())
		}
	})
}

func walkTimes(v reflect.Value, path string, visit func(string, time.Time)) {
	if !v.IsValid() {
		return
	}
	if tm, ok := v.Interface().(time.Time); ok {
		visit(path, tm)
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkTimes(v.Elem(), path, visit)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				walkTimes(v.Field(i), path+"."+v.Type().Field(i).Name, visit)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			walkTimes(v.Index(i), fmt.Sprintf("%s[%d]", path, i), visit)
		}
	}
}

// fill sets every exported field of the struct *ptr to a distinct non-zero value derived
// from seed, so a field added to a port's type later is covered by the round-trip tests
// without editing them. Times get nanoseconds and a non-UTC zone.
func fill(ptr any, seed int) {
	fillValue(reflect.ValueOf(ptr).Elem(), seed, "")
}

func fillValue(v reflect.Value, seed int, name string) {
	if _, ok := v.Interface().(time.Time); ok {
		v.Set(reflect.ValueOf(base.Add(time.Duration(seed)*time.Hour + time.Duration(len(name))*time.Minute)))
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(fmt.Sprintf("%s-%d", name, seed))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt(int64(seed*100 + len(name)))
	case reflect.Float32, reflect.Float64:
		v.SetFloat(float64(seed) + float64(len(name))/8)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fillValue(v.Elem(), seed, name)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			fillValue(v.Index(i), seed*10+i, name)
		}
	case reflect.Map:
		v.Set(reflect.MakeMap(v.Type()))
		for i := range 2 {
			k := reflect.New(v.Type().Key()).Elem()
			fillValue(k, seed*10+i, name+"key")
			e := reflect.New(v.Type().Elem()).Elem()
			fillValue(e, seed*10+i, name)
			v.SetMapIndex(k, e)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				fillValue(v.Field(i), seed, f.Name)
			}
		}
	}
}

// utc returns t's instant in UTC, as a store must return it.
func utc(t time.Time) time.Time { return t.UTC() }

// utcPtr is utc for optional times; nil stays nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
