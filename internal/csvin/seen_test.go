package csvin

import (
	"os"
	"strconv"
	"strings"
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

// Past its heap budget the set maps its tables from a temporary file; answers must not
// change, and Close must give the mappings back.
func TestSeenSpillsPastItsBudget(t *testing.T) {
	dir := t.TempDir()
	for _, budget := range []int{0, 64 << 10} {
		s := NewSeen(0)
		s.SetMemoryBudget(budget, dir)
		const n = 50_000
		for i := 0; i < n; i++ {
			if i == 1000 {
				s.Reserve(n / 2) // a low estimate: tables still grow once reserved
			}
			if first, dup := s.Add("key "+strconv.Itoa(i), i+2); dup || first != i+2 {
				t.Fatalf("budget %d: new key %d: (%d, %v)", budget, i, first, dup)
			}
		}
		for i := 0; i < n; i++ {
			if first, dup := s.Add("key "+strconv.Itoa(i), n+i+2); !dup || first != i+2 {
				t.Fatalf("budget %d: repeated key %d: (%d, %v), want (%d, true)", budget, i, first, dup, i+2)
			}
		}
		if !s.Spilled() || s.heapBytes > budget {
			t.Fatalf("budget %d: spilled %v with %d bytes of heap tables", budget, s.Spilled(), s.heapBytes)
		}
		if files, _ := os.ReadDir(dir); len(files) != 0 {
			t.Fatalf("budget %d: the temporary file is not unlinked: %v", budget, files)
		}
		if n := spillMappingsInProcess(t); n == 0 {
			t.Fatalf("budget %d: no mapping of the temporary file while the set is open", budget)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if n := spillMappingsInProcess(t); n != 0 {
			t.Fatalf("budget %d: %d mappings left after Close", budget, n)
		}
	}
}

// spillMappingsInProcess counts this process's mappings of Seen temporary files (Linux only).
func spillMappingsInProcess(t *testing.T) int {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	return strings.Count(string(maps), "attom-batch-seen-")
}

func TestSeenWithoutBudgetNeverSpills(t *testing.T) {
	s := NewSeen(0)
	s.SetMemoryBudget(-1, t.TempDir())
	for i := 0; i < 20_000; i++ {
		s.Add("key "+strconv.Itoa(i), i+2)
	}
	if s.Spilled() {
		t.Fatal("a set without a budget made a temporary file")
	}
}
