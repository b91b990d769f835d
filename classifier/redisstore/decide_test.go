package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/classifier/redisstore"
	"github.com/gospamd/gospamd/internal/testpeer"
	"github.com/gospamd/gospamd/tokenizer"
)

// The learn script (Lua, run on the server) and classifier.Decide (the
// Pebble store's decision table) agree in every case: the same Result,
// and the message and token counts changed as the Decision says, from a
// state set up directly in Redis (5 spam, 5 ham, each token 3/3, the
// message seen as the case says under its MsgID or its AltMsgID).
func TestLearnScriptAgreesWithDecide(t *testing.T) {
	srv := testpeer.StartRedis(t)
	ctx := context.Background()
	s := openStore(t, redisstore.Options{Addr: srv.Addr, TokenTTL: redisstore.DefaultTokenTTL, SeenTTL: redisstore.DefaultSeenTTL})
	raw := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer raw.Close()
	toks := []tokenizer.Key{tokenizer.KeyOf("t1"), tokenizer.KeyOf("t2"), tokenizer.KeyOf("t1")} // a repeat counts once

	type seenState struct {
		class classifier.Class // 0: not seen
		alt   bool             // seen under the AltMsgID
	}
	var ops []classifier.Op
	for _, c := range []classifier.Class{classifier.Spam, classifier.Ham} {
		ops = append(ops, classifier.Op{Class: c}, classifier.Op{Class: c, NoRelearn: true})
	}
	ops = append(ops, classifier.Op{Forget: true})
	n := 0
	for _, st := range []seenState{{}, {classifier.Spam, false}, {classifier.Ham, false}, {classifier.Spam, true}, {classifier.Ham, true}} {
		for _, base := range ops {
			n++
			sc := classifier.Scope(fmt.Sprintf("case%d", n))
			name := fmt.Sprintf("seen %q alt %v, op forget %v class %q norelearn %v", st.class, st.alt, base.Forget, base.Class, base.NoRelearn)
			p := "u:" + string(sc) + "\x00"
			setup := []any{p + "v:DB_VERSION", "3", p + "v:TOKEN_FORMAT", "2", p + "v:NSPAM", "5", p + "v:NHAM", "5"}
			if st.class != 0 {
				id := "msg"
				if st.alt {
					id = "alt"
				}
				setup = append(setup, p+"s:"+id, string(rune(st.class)))
			}
			if err := raw.MSet(ctx, setup...).Err(); err != nil {
				t.Fatal(err)
			}
			for _, k := range toks[:2] {
				if err := raw.HSet(ctx, p+"w:"+string(k[:]), "s", 3, "h", 3).Err(); err != nil {
					t.Fatal(err)
				}
			}
			op := base
			op.Scope, op.MsgID, op.AltMsgID, op.Tokens, op.Atime = sc, "msg", "alt", toks, time.Now().Unix()
			want := classifier.Decide(&op, st.class, st.class != 0)
			res, err := s.Apply(ctx, []classifier.Op{op})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if res[0] != want.Result {
				t.Errorf("%s: script result %v, Decide %v", name, res[0], want.Result)
			}
			delta := func(c classifier.Class) int {
				d := 0
				if want.Unlearn == c {
					d--
				}
				if want.Learn == c {
					d++
				}
				return d
			}
			m, err := s.Magic(ctx, sc)
			if err != nil {
				t.Fatal(err)
			}
			if m.NSpam != int64(5+delta(classifier.Spam)) || m.NHam != int64(5+delta(classifier.Ham)) {
				t.Errorf("%s: counts %d/%d, Decide %+v says %d/%d", name, m.NSpam, m.NHam, want, 5+delta(classifier.Spam), 5+delta(classifier.Ham))
			}
			for _, k := range toks[:2] {
				vals, err := raw.HMGet(ctx, p+"w:"+string(k[:]), "s", "h").Result()
				if err != nil {
					t.Fatal(err)
				}
				got := [2]int{}
				for i, v := range vals {
					got[i], _ = strconv.Atoi(fmt.Sprint(v))
				}
				if wantTok := [2]int{3 + delta(classifier.Spam), 3 + delta(classifier.Ham)}; got != wantTok {
					t.Errorf("%s: token counts %v, Decide %+v says %v", name, got, want, wantTok)
				}
			}
			seen, ok, err := s.Seen(ctx, sc, "msg")
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case want.Learn != 0 && (!ok || seen != want.Learn):
				t.Errorf("%s: seen as %q (%v), want %q", name, seen, ok, want.Learn)
			case want.Learn == 0 && want.Unlearn != 0:
				if _, altOK, _ := s.Seen(ctx, sc, "alt"); ok || altOK {
					t.Errorf("%s: a seen entry is left after the unlearn", name)
				}
			}
		}
	}
}
