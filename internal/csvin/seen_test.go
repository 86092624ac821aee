package csvin

import (
	"strconv"
	"testing"
)

func TestSeenKeepsFirstLineAcrossGrowth(t *testing.T) {
	for _, hint := range []int{0, 10, 50_000, -1} {
		s := NewSeen(max(hint, 0))
		const n = 20_000
		for i := 0; i < n; i++ {
			if hint < 0 && i == 500 {
				s.Reserve(n) // -1: reserve midway, as a reader of a sized file does
			}
			if first, dup := s.Add("key "+strconv.Itoa(i), i+2); dup || first != i+2 {
				t.Fatalf("hint %d: new key %d: (%d, %v)", hint, i, first, dup)
			}
		}
		for i := 0; i < n; i++ {
			if first, dup := s.Add("key "+strconv.Itoa(i), n+i+2); !dup || first != i+2 {
				t.Fatalf("hint %d: repeated key %d: (%d, %v), want (%d, true)", hint, i, first, dup, i+2)
			}
		}
		if s.Len() != n {
			t.Errorf("hint %d: Len = %d, want %d", hint, s.Len(), n)
		}
	}
}
