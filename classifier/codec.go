package classifier

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/gospamd/gospamd/tokenizer"
)

// appendTokenKey appends the token key of (sc, k) to dst.
func appendTokenKey(dst []byte, sc Scope, k tokenizer.Key) []byte {
	dst = append(dst, kindToken)
	dst = append(dst, sc...)
	dst = append(dst, 0)
	return append(dst, k[:]...)
}

// encodeCounts appends the value of a token record.
func encodeCounts(dst []byte, c Counts) []byte {
	dst = binary.AppendUvarint(dst, uint64(c.Spam))
	dst = binary.AppendUvarint(dst, uint64(c.Ham))
	return binary.AppendVarint(dst, c.Atime)
}

var errCorruptValue = errors.New("corrupt value")

func decodeCounts(v []byte) (Counts, error) {
	spam, n1 := binary.Uvarint(v)
	if n1 <= 0 {
		return Counts{}, errCorruptValue
	}
	ham, n2 := binary.Uvarint(v[n1:])
	if n2 <= 0 {
		return Counts{}, errCorruptValue
	}
	atime, n3 := binary.Varint(v[n1+n2:])
	if n3 <= 0 {
		return Counts{}, errCorruptValue
	}
	return Counts{Spam: clampUint32(spam), Ham: clampUint32(ham), Atime: atime}, nil
}

func clampUint32(v uint64) uint32 {
	if v > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(v)
}

// magicFields lists Magic's fields in their encoded order. New fields
// are only ever appended; a shorter record decodes with zeros.
func magicFields(m *Magic) []*int64 {
	return []*int64{
		&m.DBVersion, &m.NSpam, &m.NHam, &m.NTokens, &m.OldestAtime, &m.NewestAtime,
		&m.LastJournalSync, &m.LastExpire, &m.LastExpireDelta, &m.LastExpireReduce,
	}
}

func encodeMagic(m Magic) []byte {
	var dst []byte
	for _, f := range magicFields(&m) {
		dst = binary.AppendVarint(dst, *f)
	}
	return dst
}

func decodeMagic(v []byte) (Magic, error) {
	var m Magic
	for _, f := range magicFields(&m) {
		if len(v) == 0 {
			break
		}
		x, n := binary.Varint(v)
		if n <= 0 {
			return Magic{}, errCorruptValue
		}
		*f = x
		v = v[n:]
	}
	return m, nil
}

// emptyMagic is the magic of a scope that has learned nothing.
func emptyMagic() Magic { return Magic{DBVersion: DBVersion} }

func decodeClass(v []byte) (Class, error) {
	if len(v) != 1 || (Class(v[0]) != Spam && Class(v[0]) != Ham) {
		return 0, fmt.Errorf("seen class %q: %w", v, errCorruptValue)
	}
	return Class(v[0]), nil
}
