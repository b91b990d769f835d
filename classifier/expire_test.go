package classifier

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gospamd/gospamd/tokenizer"
)

const day = 86400

// ageGroup is n tokens whose atime is age seconds before the newest.
type ageGroup struct {
	n   int
	age int64
}

// restoreAged fills scope "" with the groups' tokens, the newest atime
// being newest, through a backup (so the counters are restore's).
func restoreAged(t *testing.T, s *Store, newest int64, groups ...ageGroup) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("v\t3\tdb_version\nv\t500\tnum_spam\nv\t500\tnum_nonspam\n")
	i := 0
	for _, g := range groups {
		for range g.n {
			k := tokenizer.Key{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i), 0x5a}
			// Alternate hapaxes (1/0) and frequent tokens (9/1).
			spam, ham := 1, 0
			if i%2 == 1 {
				spam, ham = 9, 1
			}
			fmt.Fprintf(&b, "t\t%d\t%d\t%d\t%s\n", spam, ham, newest-g.age, k)
			i++
		}
	}
	if _, err := s.Restore(context.Background(), "", &b); err != nil {
		t.Fatal(err)
	}
}

func TestExpire(t *testing.T) {
	nowTime := time.Now()
	now := nowTime.Unix()
	newest := now - 3600
	tests := []struct {
		name   string
		groups []ageGroup
		// last sets the previous expiry's counters before the run.
		last        *Magic
		force       bool
		wantRan     bool
		wantDeleted int64
		wantKept    int64
		wantDelta   int64
		wantSkipped string // substring; "" means tokens were deleted or not due
		// wantStamp: LastExpire must be now after the run.
		wantStamp  bool
		wantOldest int64
	}{
		{
			name:    "not due: at most 100000 tokens",
			groups:  []ageGroup{{60000, 0}, {40000, 20 * day}},
			wantRan: false,
		},
		{
			name:    "not due: below max db size",
			groups:  []ageGroup{{100000, 0}, {40000, 20 * day}},
			wantRan: false,
		},
		{
			name:    "not due: expired less than 12 hours ago",
			groups:  []ageGroup{{120000, 0}, {40000, 20 * day}},
			last:    &Magic{LastExpire: now - 43199},
			wantRan: false,
		},
		{
			name:    "not due: newest and oldest within 12 hours",
			groups:  []ageGroup{{160000, 0}},
			wantRan: false,
		},
		{
			// 160000 tokens, goal 47500. Token counts by age threshold:
			// >= 0.5..8 days: 60000, >= 16 days: 40000, >= 32 days: 0. The
			// largest power removing more than the goal is 16 (8 days), so
			// the delta is 32 * 12 h = 16 days and removes the 40000.
			name:     "scan chooses the delta",
			groups:   []ageGroup{{100000, 0}, {20000, 10 * day}, {40000, 20 * day}},
			wantRan:  true,
			wantKept: 120000, wantDeleted: 40000, wantDelta: 32 * 43200,
			wantStamp: true, wantOldest: newest - 10*day,
		},
		{
			// The previous run removed 40000 with a 32-day delta; the goal
			// is 40000 again, so the estimate is the same 32 days (a scan
			// would have chosen 12 h). Tokens at 40 days go.
			name:     "estimate from the previous run",
			groups:   []ageGroup{{100000, 0}, {12500, 20 * day}, {40000, 40 * day}},
			last:     &Magic{LastExpire: now - day, LastExpireDelta: 64 * 43200, LastExpireReduce: 40000},
			wantRan:  true,
			wantKept: 112500, wantDeleted: 40000, wantDelta: 64 * 43200,
			wantStamp: true, wantOldest: newest - 20*day,
		},
		{
			// The estimate (1 day) would delete 100000 tokens, leaving
			// fewer than 100000: nothing is deleted, counters reset.
			name:        "abort when too few would remain",
			groups:      []ageGroup{{60000, 0}, {100000, 2 * day}},
			last:        &Magic{LastExpire: now - day, LastExpireDelta: 2 * 43200, LastExpireReduce: 47500},
			wantRan:     true,
			wantKept:    160000,
			wantSkipped: "would keep only",
			wantStamp:   true,
		},
		{
			name:        "forced with a goal under 1000 only stamps",
			groups:      []ageGroup{{113000, 0}, {100, 20 * day}},
			force:       true,
			wantRan:     true,
			wantKept:    113100,
			wantSkipped: "under 1000",
			wantStamp:   true,
		},
		{
			// Every token but 500 is older than 16 days, so the scan finds
			// 512*12h (256 days) still removing more than the goal and no
			// larger delta to try.
			name:        "no delta removes the right amount",
			groups:      []ageGroup{{500, 0}, {159500, 300 * day}},
			wantRan:     true,
			wantKept:    160000,
			wantSkipped: "no atime delta",
			wantStamp:   true,
		},
		{
			name:        "forced but no token older than 12 hours",
			groups:      []ageGroup{{160000, 0}},
			force:       true,
			wantRan:     true,
			wantKept:    160000,
			wantSkipped: "no token is older",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := openTestStore(t)
			ctx := context.Background()
			restoreAged(t, s, newest, tt.groups...)
			before, err := s.Magic(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			if tt.last != nil {
				before.LastExpire = tt.last.LastExpire
				before.LastExpireDelta = tt.last.LastExpireDelta
				before.LastExpireReduce = tt.last.LastExpireReduce
				if err := s.writeMagic("", before); err != nil {
					t.Fatal(err)
				}
			}
			st, err := s.Expire(ctx, "", ExpireOptions{Force: tt.force, Now: nowTime})
			if err != nil {
				t.Fatal(err)
			}
			after := contents(t, s, "")
			if st.Ran != tt.wantRan {
				t.Fatalf("Ran = %v, want %v (%+v)", st.Ran, tt.wantRan, st)
			}
			if !st.Ran {
				if after.Magic != before || int64(len(after.Tokens)) != before.NTokens {
					t.Errorf("expiry that was not due changed the store: %+v -> %+v", before, after.Magic)
				}
				return
			}
			if st.Kept != tt.wantKept || st.Deleted != tt.wantDeleted || st.Delta != tt.wantDelta {
				t.Errorf("stats %+v, want kept %d deleted %d delta %d", st, tt.wantKept, tt.wantDeleted, tt.wantDelta)
			}
			if tt.wantSkipped == "" && st.Skipped != "" || !strings.Contains(st.Skipped, tt.wantSkipped) {
				t.Errorf("Skipped = %q, want %q", st.Skipped, tt.wantSkipped)
			}
			if int64(len(after.Tokens)) != tt.wantKept || after.Magic.NTokens != tt.wantKept {
				t.Errorf("%d tokens, ntokens %d; want %d", len(after.Tokens), after.Magic.NTokens, tt.wantKept)
			}
			if got := after.Magic.LastExpire == now; got != tt.wantStamp {
				t.Errorf("last expire %d (now %d), want stamped %v", after.Magic.LastExpire, now, tt.wantStamp)
			}
			if tt.wantDeleted > 0 {
				if after.Magic.LastExpireDelta != tt.wantDelta || after.Magic.LastExpireReduce != tt.wantDeleted {
					t.Errorf("magic %+v: want delta %d, reduce %d", after.Magic, tt.wantDelta, tt.wantDeleted)
				}
				if after.Magic.OldestAtime != tt.wantOldest || after.Magic.NewestAtime != newest {
					t.Errorf("oldest/newest %d/%d, want %d/%d", after.Magic.OldestAtime, after.Magic.NewestAtime, tt.wantOldest, newest)
				}
				if st.Hapaxes+st.LowFreq != tt.wantKept/2 {
					// Half the tokens are 1/0 hapaxes, the other half 9/1.
					t.Errorf("hapaxes %d lowfreq %d of %d kept", st.Hapaxes, st.LowFreq, tt.wantKept)
				}
				for k, c := range after.Tokens {
					if c.Atime < newest-tt.wantDelta {
						t.Fatalf("token %s with atime %d survived a delta of %d", k, c.Atime, tt.wantDelta)
					}
				}
			} else if st.Deleted == 0 && tt.wantSkipped == "would keep only" {
				if after.Magic.LastExpireDelta != 0 || after.Magic.LastExpireReduce != 0 {
					t.Errorf("aborted expiry left delta %d reduce %d", after.Magic.LastExpireDelta, after.Magic.LastExpireReduce)
				}
			}
		})
	}
}
