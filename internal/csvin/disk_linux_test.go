package csvin

import (
	"strconv"
	"syscall"
	"testing"
)

// A set that grows step by step past its budget must hold on disk no more than its live
// tables: the regions of replaced tables are punched out of the file.
func TestSpilledSetFreesReplacedTablesOnDisk(t *testing.T) {
	s := NewSeen(0)
	s.SetMemoryBudget(0, t.TempDir())
	defer s.Close()
	for i := 0; i < 100_000; i++ {
		s.Add("key "+strconv.Itoa(i), i+2)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(s.spill.f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	var live int64
	for _, r := range s.spill.maps {
		live += int64(len(r.b))
	}
	// Live tables are allocated up front (reserveDisk); a little more is file system slack.
	if allocated := st.Blocks * 512; allocated > live+live/10 || s.spill.size < 2*live {
		t.Fatalf("file of %d bytes holds %d on disk for %d bytes of live tables", s.spill.size, allocated, live)
	}
}
