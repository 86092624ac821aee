package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/leadflow/attom-batch/internal/batch"
)

// RunAnswers checks an AnswerStore: answers are kept by address key and endpoint, a second
// put replaces the first, and Answers returns exactly the stored answers asked for, however
// many keys and endpoints.
func RunAnswers(t *testing.T, newStore func(t *testing.T) batch.AnswerStore) {
	t.Run("EveryFieldRoundTrips", func(t *testing.T) { testAnswerRoundTrip(t, newStore(t)) })
	t.Run("PutTwiceReplaces", func(t *testing.T) { testAnswerReplace(t, newStore(t)) })
	t.Run("OnlyWhatWasAsked", func(t *testing.T) { testAnswersOnlyAsked(t, newStore(t)) })
	t.Run("ManyKeys", func(t *testing.T) { testAnswersManyKeys(t, newStore(t)) })
	t.Run("ManyEndpoints", func(t *testing.T) { testAnswersManyEndpoints(t, newStore(t)) })
	t.Run("NothingAsked", func(t *testing.T) { testAnswersNothingAsked(t, newStore(t)) })
}

func answer(key, endpoint string, seed int) batch.Answer {
	var a batch.Answer
	fill(&a, seed)
	a.Key, a.Endpoint = key, endpoint
	return a
}

func wantAnswer(a batch.Answer) batch.Answer {
	a.FetchedAt = utc(a.FetchedAt)
	return a
}

// answerSet is answers as Answers returns them: by key, then endpoint.
type answerSet = map[string]map[string]batch.Answer

func wantAnswers(as ...batch.Answer) answerSet {
	out := answerSet{}
	for _, a := range as {
		if out[a.Key] == nil {
			out[a.Key] = map[string]batch.Answer{}
		}
		out[a.Key][a.Endpoint] = wantAnswer(a)
	}
	return out
}

func putAnswers(t *testing.T, s batch.AnswerStore, as ...batch.Answer) {
	t.Helper()
	runConcurrently(t, len(as), func(i int) error {
		if err := s.PutAnswer(context.Background(), as[i]); err != nil {
			return fmt.Errorf("PutAnswer(%s, %s): %w", as[i].Key, as[i].Endpoint, err)
		}
		return nil
	})
	if t.Failed() {
		t.FailNow()
	}
}

func answers(t *testing.T, s batch.AnswerStore, keys, endpoints []string) answerSet {
	t.Helper()
	got, err := s.Answers(context.Background(), keys, endpoints)
	if err != nil {
		t.Fatalf("Answers(%d keys, %d endpoints): %v", len(keys), len(endpoints), err)
	}
	requireUTC(t, "answers", got)
	return got
}

func testAnswerRoundTrip(t *testing.T, s batch.AnswerStore) {
	key := uniq("1 MAIN ST|12345")
	full := answer(key, "expandedprofile", 1)
	bare := batch.Answer{Key: key, Endpoint: "attomavm/detail", Outcome: batch.LookupNotFound, FetchedAt: base}
	putAnswers(t, s, full, bare)
	got := answers(t, s, []string{key}, []string{full.Endpoint, bare.Endpoint})
	if d := diff(wantAnswers(full, bare), got); d != "" {
		t.Errorf("answers round trip (-want +got):\n%s", d)
	}
	if at := got[key][full.Endpoint].FetchedAt; at.Nanosecond() != base.Nanosecond() {
		t.Errorf("FetchedAt %v lost its nanoseconds (want %d)", at, base.Nanosecond())
	}
}

func testAnswerReplace(t *testing.T, s batch.AnswerStore) {
	key := uniq("5 PINE CT|10001")
	first := answer(key, "expandedprofile", 1)
	first.Outcome = batch.AnswerBroken
	putAnswers(t, s, first)
	second := answer(key, "expandedprofile", 2)
	second.Outcome = batch.LookupFound
	second.Simulated, second.JobID, second.Attempt = false, "", ""
	putAnswers(t, s, second)
	if d := diff(wantAnswers(second), answers(t, s, []string{key}, []string{"expandedprofile"})); d != "" {
		t.Errorf("after two puts of one key and endpoint (-want +got):\n%s", d)
	}
}

func testAnswersOnlyAsked(t *testing.T, s batch.AnswerStore) {
	a, b, never := uniq("A"), uniq("B"), uniq("NEVER")
	aProfile, aAVM := answer(a, "expandedprofile", 1), answer(a, "attomavm/detail", 2)
	bProfile := answer(b, "expandedprofile", 3)
	putAnswers(t, s, aProfile, aAVM, bProfile)

	got := answers(t, s, []string{a, b, never}, []string{"expandedprofile", "attomavm/detail", "assessment"})
	if d := diff(wantAnswers(aProfile, aAVM, bProfile), got); d != "" {
		t.Errorf("every endpoint (-want +got):\n%s", d)
	}
	if _, ok := got[never]; ok {
		t.Errorf("a key never stored is present: %v", got[never])
	}
	got = answers(t, s, []string{a, never, a}, []string{"attomavm/detail"})
	if d := diff(wantAnswers(aAVM), got); d != "" {
		t.Errorf("one endpoint, a key asked twice (-want +got):\n%s", d)
	}
}

// testAnswersManyKeys asks for more keys than one DynamoDB BatchGetItem (100 keys) or a
// small SQLite IN list takes.
func testAnswersManyKeys(t *testing.T, s batch.AnswerStore) {
	const n = 260
	prefix := uniq("K")
	endpoints := []string{"expandedprofile", "attomavm/detail"}
	var stored []batch.Answer
	var keys []string
	for i := range n {
		key := fmt.Sprintf("%s-%04d", prefix, i)
		keys = append(keys, key)
		if i%3 == 0 {
			continue // asked for, never stored
		}
		a := answer(key, endpoints[i%2], i)
		a.FetchedAt = base.Add(time.Duration(i) * time.Nanosecond)
		stored = append(stored, a)
	}
	putAnswers(t, s, stored...)
	if d := diff(wantAnswers(stored...), answers(t, s, keys, endpoints)); d != "" {
		t.Errorf("%d keys on %d endpoints (-want +got):\n%s", n, len(endpoints), d)
	}
}

func testAnswersManyEndpoints(t *testing.T, s batch.AnswerStore) {
	keys := []string{uniq("A"), uniq("B"), uniq("C")}
	var endpoints []string
	var stored []batch.Answer
	for e := range 40 {
		endpoint := fmt.Sprintf("endpoint/%02d", e)
		endpoints = append(endpoints, endpoint)
		for k, key := range keys {
			if (e+k)%2 == 0 {
				stored = append(stored, answer(key, endpoint, e*10+k))
			}
		}
	}
	putAnswers(t, s, stored...)
	if d := diff(wantAnswers(stored...), answers(t, s, keys, endpoints)); d != "" {
		t.Errorf("%d keys on %d endpoints (-want +got):\n%s", len(keys), len(endpoints), d)
	}
}

func testAnswersNothingAsked(t *testing.T, s batch.AnswerStore) {
	key := uniq("A")
	putAnswers(t, s, answer(key, "expandedprofile", 1))
	for _, tc := range []struct{ keys, endpoints []string }{
		{nil, []string{"expandedprofile"}},
		{[]string{key}, nil},
		{nil, nil},
	} {
		if got := answers(t, s, tc.keys, tc.endpoints); len(got) != 0 {
			t.Errorf("Answers(%q, %q) = %v, want none", tc.keys, tc.endpoints, got)
		}
	}
}
