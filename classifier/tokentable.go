package classifier

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"

	"github.com/gospamd/gospamd/tokenizer"
)

// A tokenTable holds the cached counts of one scope in about half the
// memory of a Go map (22 bytes an entry instead of about 40): a scope of
// SpamAssassin's default size (150 000 tokens) takes about 3 MB.
//
// A scope's fill reads its tokens from Pebble in key order, which is the
// sorted part: keys and counts in two arrays, and a directory of where
// each range of leading key bits starts (token keys are SHA-1 bits, so
// the ranges hold a few keys each). A lookup reads the directory and a
// few neighbouring keys. Counts of keys already there are updated in
// place; keys learned after the fill go to a map, merged into the sorted
// part when it has grown by a quarter.
//
// A tokenTable is not safe for concurrent use (tokenCache locks it).
type tokenTable struct {
	keys   []tokenizer.Key // sorted
	counts []Counts
	// dir[b] is the index of the first key whose top dirBits bits are b
	// or more; dir[len(dir)-1] is len(keys).
	dir     []uint32
	dirBits uint
	// more holds the keys not in keys.
	more map[keyID]Counts
}

// newTokenTable takes keys (sorted, as Pebble iterates a scope) and
// their counts.
func newTokenTable(keys []tokenizer.Key, counts []Counts) *tokenTable {
	t := &tokenTable{}
	t.build(keys, counts)
	return t
}

// build makes keys and counts the sorted part, sorting them if needed.
func (t *tokenTable) build(keys []tokenizer.Key, counts []Counts) {
	if !slices.IsSortedFunc(keys, compareKeys) {
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return compareKeys(keys[a], keys[b]) })
		k, c := make([]tokenizer.Key, len(keys)), make([]Counts, len(keys))
		for i, j := range idx {
			k[i], c[i] = keys[j], counts[j]
		}
		keys, counts = k, c
	}
	t.keys, t.counts = slices.Clip(keys), slices.Clip(counts)
	// About four keys a directory entry.
	t.dirBits = uint(bits.Len(uint(len(keys) / 4)))
	t.dir = make([]uint32, 1<<t.dirBits+1)
	b := 0
	for i, k := range keys {
		for kb := t.bucket(k); b <= kb; b++ {
			t.dir[b] = uint32(i)
		}
	}
	for ; b < len(t.dir); b++ {
		t.dir[b] = uint32(len(keys))
	}
}

func compareKeys(a, b tokenizer.Key) int { return bytes.Compare(a[:], b[:]) }

func (t *tokenTable) bucket(k tokenizer.Key) int {
	if t.dirBits == 0 {
		return 0
	}
	return int(binary.BigEndian.Uint32(k[:4]) >> (32 - t.dirBits))
}

// find returns the index of k in the sorted part, or -1.
func (t *tokenTable) find(k tokenizer.Key) int {
	if len(t.keys) == 0 {
		return -1
	}
	b := t.bucket(k)
	for i := t.dir[b]; i < t.dir[b+1]; i++ {
		if t.keys[i] == k {
			return int(i)
		}
	}
	return -1
}

// get returns the counts of k and whether the table holds it.
func (t *tokenTable) get(k tokenizer.Key) (Counts, bool) {
	if t == nil {
		return Counts{}, false
	}
	if i := t.find(k); i >= 0 {
		return t.counts[i], true
	}
	v, ok := t.more[idOf(k)]
	return v, ok
}

// set records the counts of k and reports whether k is new to the table.
func (t *tokenTable) set(k tokenizer.Key, v Counts) (added bool) {
	if i := t.find(k); i >= 0 {
		t.counts[i] = v
		return false
	}
	if t.more == nil {
		t.more = map[keyID]Counts{}
	}
	id := idOf(k)
	n := len(t.more)
	t.more[id] = v
	if len(t.more) == n {
		return false
	}
	if len(t.more) > 1024 && len(t.more) > len(t.keys)/4 {
		t.merge()
	}
	return true
}

// setMany records the counts of keys, as set would one by one, and
// returns how many keys are new to the table; when more than room would
// be (or 1<<24 with the map's), it only updates the keys the table holds
// and returns -1.
//
// A learn batch puts tens of thousands of keys, most of them new to a
// store that is being filled: they are sorted together and merged into
// the sorted part at once when the map would outgrow it, instead of
// going through the map and a merge every quarter of growth.
func (t *tokenTable) setMany(keys []tokenizer.Key, counts []Counts, room int) int {
	var fresh []int
	for i, k := range keys {
		if j := t.find(k); j >= 0 {
			t.counts[j] = counts[i]
			continue
		}
		if t.more != nil {
			if _, ok := t.more[idOf(k)]; ok {
				t.more[idOf(k)] = counts[i]
				continue
			}
		}
		fresh = append(fresh, i)
	}
	if len(fresh) > room || len(t.more)+len(fresh) >= 1<<24 {
		return -1
	}
	if n := len(t.more) + len(fresh); n <= 1024 || n <= len(t.keys)/4 {
		// Few: into the map, as set would.
		added := 0
		for _, i := range fresh {
			if t.set(keys[i], counts[i]) {
				added++
			}
		}
		return added
	}
	old := t.len()
	t.mergeWith(keys, counts, fresh)
	return t.len() - old
}

// merge moves the map's keys into the sorted part.
func (t *tokenTable) merge() { t.mergeWith(nil, nil, nil) }

// mergeWith moves the map's keys, and keys[i] with counts[i] for each i
// of fresh (keys not in the table), into the sorted part. A 40-bit key
// id and a 24-bit index into vals in one uint64 sort as the keys do, a
// fresh key after the map's entry of it and a later entry of a key after
// an earlier one; the last of a key's entries wins.
func (t *tokenTable) mergeWith(keys []tokenizer.Key, counts []Counts, fresh []int) {
	vals := make([]Counts, 0, len(t.more)+len(fresh))
	packed := make([]uint64, 0, len(t.more)+len(fresh))
	for id, v := range t.more {
		packed = append(packed, uint64(id)<<24|uint64(len(vals)))
		vals = append(vals, v)
	}
	for _, i := range fresh {
		packed = append(packed, uint64(idOf(keys[i]))<<24|uint64(len(vals)))
		vals = append(vals, counts[i])
	}
	sortPacked(packed)
	n := len(t.keys) + len(packed)
	merged, mergedCounts := make([]tokenizer.Key, 0, n), make([]Counts, 0, n)
	i := 0
	for j, p := range packed {
		id := keyID(p >> 24)
		if j+1 < len(packed) && keyID(packed[j+1]>>24) == id {
			continue // a later entry of the same key wins
		}
		for i < len(t.keys) && idOf(t.keys[i]) < id {
			merged, mergedCounts = append(merged, t.keys[i]), append(mergedCounts, t.counts[i])
			i++
		}
		merged, mergedCounts = append(merged, keyOf(id)), append(mergedCounts, vals[p&(1<<24-1)])
	}
	merged, mergedCounts = append(merged, t.keys[i:]...), append(mergedCounts, t.counts[i:]...)
	t.more = nil
	t.build(merged, mergedCounts)
}

// len returns how many keys the table holds.
func (t *tokenTable) len() int {
	if t == nil {
		return 0
	}
	return len(t.keys) + len(t.more)
}
