package sqlitestore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/leadflow/attom-batch/internal/batch"
)

var answersTable = table{name: "answers", columns: []column{
	{"key", text}, {"endpoint", text}, {"outcome", text}, {"raw", textNull},
	{"billed_cents", integer}, {"simulated", boolean}, {"fetched_at", timestamp},
	{"job_id", textNull}, {"attempt", textNull},
}}

// PutAnswer implements batch.AnswerStore: the answer replaces the one stored for the same
// key and endpoint.
func (s *Store) PutAnswer(ctx context.Context, a batch.Answer) error {
	if a.Key == "" || a.Endpoint == "" {
		return fmt.Errorf("sqlitestore: put answer %q/%q: key and endpoint are required", a.Key, a.Endpoint)
	}
	args, err := answersTable.toRow(a)
	if err == nil {
		_, err = s.exec(ctx, `INSERT OR REPLACE INTO answers (`+answersTable.names()+
			`) VALUES (`+answersTable.placeholders()+`)`, args...)
	}
	if err != nil {
		return fmt.Errorf("sqlitestore: put answer %s/%s: %w", a.Key, a.Endpoint, err)
	}
	return nil
}

// Answers per query: a statement may bind at most 999 variables in older SQLite builds
// (32766 in this one), so keys and endpoints go in groups well below that.
const (
	answerKeysPerQuery      = 500
	answerEndpointsPerQuery = 100
)

// Answers implements batch.AnswerStore with one query per group of keys and endpoints,
// each an IN list on the primary key.
func (s *Store) Answers(ctx context.Context, keys, endpoints []string) (map[string]map[string]batch.Answer, error) {
	out := make(map[string]map[string]batch.Answer)
	for eps := range slices.Chunk(endpoints, answerEndpointsPerQuery) {
		for ks := range slices.Chunk(keys, answerKeysPerQuery) {
			if err := s.answers(ctx, ks, eps, out); err != nil {
				return nil, fmt.Errorf("sqlitestore: answers of %d keys on %d endpoints: %w", len(keys), len(endpoints), err)
			}
		}
	}
	return out, nil
}

// answers adds the stored answers of keys on endpoints to out. The statement is not kept
// prepared: its text varies with the group sizes.
func (s *Store) answers(ctx context.Context, keys, endpoints []string, out map[string]map[string]batch.Answer) error {
	args := make([]any, 0, len(keys)+len(endpoints))
	for _, k := range keys {
		args = append(args, k)
	}
	for _, e := range endpoints {
		args = append(args, e)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+answersTable.names()+` FROM answers WHERE key IN (`+
		inList(len(keys))+`) AND endpoint IN (`+inList(len(endpoints))+`)`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var a batch.Answer
		if err := answersTable.scanInto(rows, &a); err != nil {
			return err
		}
		if out[a.Key] == nil {
			out[a.Key] = make(map[string]batch.Answer)
		}
		out[a.Key][a.Endpoint] = a
	}
	return rows.Err()
}

// inList is "?, ?, ..." with n placeholders.
func inList(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }
