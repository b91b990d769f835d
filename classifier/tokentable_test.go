package classifier

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"

	"github.com/gospamd/gospamd/tokenizer"
)

// A tokenTable answers as a map would: for the keys of its fill, for
// keys set later (past several merges), updated ones and absent ones, and
// whether the fill came sorted (as Pebble iterates) or not.
func TestTokenTableAgreesWithMap(t *testing.T) {
	for _, tc := range []struct {
		name         string
		fill, writes int
		sorted       bool
	}{
		{"empty fill, writes", 0, 5000, true},
		{"small", 3, 10, true},
		{"a scope, then learning", 20000, 30000, true},
		{"unsorted fill", 5000, 2000, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, uint64(tc.fill)))
			key := func() tokenizer.Key { return tokenizer.KeyOf(strconv.FormatUint(rng.Uint64(), 36)) }
			counts := func() Counts {
				return Counts{Spam: rng.Uint32N(100), Ham: rng.Uint32N(100), Atime: rng.Int64N(1 << 40)}
			}
			want := map[tokenizer.Key]Counts{}
			var keys []tokenizer.Key
			var vals []Counts
			for range tc.fill {
				k, v := key(), counts()
				if _, dup := want[k]; dup {
					continue
				}
				want[k] = v
				keys, vals = append(keys, k), append(vals, v)
			}
			if tc.sorted {
				sortKeys(keys, vals)
			}
			tab := newTokenTable(keys, vals)
			all := append([]tokenizer.Key(nil), keys...)
			for i := range tc.writes {
				k := key()
				if i%3 == 0 && len(all) > 0 {
					k = all[rng.IntN(len(all))] // an update
				} else {
					all = append(all, k)
				}
				v := counts()
				want[k] = v
				tab.set(k, v)
			}
			if tab.len() != len(want) {
				t.Errorf("len %d, want %d", tab.len(), len(want))
			}
			for _, k := range all {
				if got, ok := tab.get(k); !ok || got != want[k] {
					t.Fatalf("get(%x) = %v, %v; want %v", k, got, ok, want[k])
				}
			}
			for range 1000 {
				k := key()
				if _, in := want[k]; in {
					continue
				}
				if got, ok := tab.get(k); ok {
					t.Fatalf("get(%x) of an absent key = %v, true", k, got)
				}
			}
		})
	}
	var nilTable *tokenTable
	if _, ok := nilTable.get(tokenizer.KeyOf("x")); ok || nilTable.len() != 0 {
		t.Error("a nil table holds something")
	}
}

// setMany puts batches as set would key by key: in batches small enough
// for the map and large ones merged at once, with updates of sorted and
// map keys and a key given twice in one batch (its last counts win).
func TestTokenTableSetManyAgreesWithSet(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 9))
	key := func() tokenizer.Key { return tokenizer.KeyOf(strconv.FormatUint(rng.Uint64(), 36)) }
	one, many := &tokenTable{}, &tokenTable{}
	var all []tokenizer.Key
	for _, size := range []int{10, 500, 3000, 200, 40000, 7, 15000, 5000} {
		keys := make([]tokenizer.Key, size)
		vals := make([]Counts, size)
		for i := range keys {
			switch {
			case i%4 == 1 && len(all) > 0:
				keys[i] = all[rng.IntN(len(all))] // an update
			case i%9 == 2 && i > 0:
				keys[i] = keys[i-1] // twice in the batch
			default:
				keys[i] = key()
				all = append(all, keys[i])
			}
			vals[i] = Counts{Spam: rng.Uint32N(100) + 1, Ham: rng.Uint32N(100), Atime: rng.Int64N(1 << 40)}
		}
		added := 0
		for i, k := range keys {
			if one.set(k, vals[i]) {
				added++
			}
		}
		if got := many.setMany(keys, vals, 1<<30); got != added {
			t.Fatalf("batch of %d: setMany added %d, set %d", size, got, added)
		}
		if one.len() != many.len() {
			t.Fatalf("batch of %d: len %d, want %d", size, many.len(), one.len())
		}
		for _, k := range all {
			want, _ := one.get(k)
			if got, ok := many.get(k); !ok || got != want {
				t.Fatalf("batch of %d: get(%x) = %v, %v; want %v", size, k, got, ok, want)
			}
		}
	}
	if got := many.setMany([]tokenizer.Key{key(), key()}, make([]Counts, 2), 1); got != -1 {
		t.Errorf("setMany past its room = %d, want -1", got)
	}
}

// sortKeys sorts keys and vals together by key.
func sortKeys(keys []tokenizer.Key, vals []Counts) {
	t := newTokenTable(keys, vals) // sorts copies
	copy(keys, t.keys)
	copy(vals, t.counts)
}

// A complete scope takes about 22 bytes a token, not the 40 of a map.
func TestTokenTableSize(t *testing.T) {
	const n = 150000
	keys := make([]tokenizer.Key, n)
	vals := make([]Counts, n)
	for i := range keys {
		keys[i] = tokenizer.KeyOf(strconv.Itoa(i))
	}
	sortKeys(keys, vals)
	tab := newTokenTable(keys, vals)
	size := cap(tab.keys)*len(tokenizer.Key{}) + cap(tab.counts)*int(unsafe.Sizeof(Counts{})) + cap(tab.dir)*4
	if per := float64(size) / n; per > 24 {
		t.Errorf("%.1f bytes a token, want at most 24", per)
	}
}
