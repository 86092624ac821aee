package csvin

import (
	"strconv"
	"testing"
)

func TestSeenKeepsTheFirstLine(t *testing.T) {
	s := NewSeen()
	const n = 20_000
	for i := 0; i < n; i++ {
		if first, dup := s.Add("key "+strconv.Itoa(i), i+2); dup || first != i+2 {
			t.Fatalf("new key %d: (%d, %v)", i, first, dup)
		}
	}
	for i := 0; i < n; i++ {
		if first, dup := s.Add("key "+strconv.Itoa(i), n+i+2); !dup || first != i+2 {
			t.Fatalf("repeated key %d: (%d, %v), want (%d, true)", i, first, dup, i+2)
		}
	}
	if s.Len() != n {
		t.Errorf("Len = %d, want %d", s.Len(), n)
	}
}
