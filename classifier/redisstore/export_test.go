package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/gospamd/gospamd/classifier"
	"github.com/gospamd/gospamd/tokenizer"
)

// The Lua lookup the pipeline of read.go replaced, kept as the reference
// its answers are checked against (TestLookupMatchesScript).

// lookupLua reads what a scan needs in one call: the message counts,
// the message's seen entry (for autolearn), and the tokens' counts.
// KEYS: [1] NSPAM, [2] NHAM, [3..2+n] the seen keys to try in order,
// [3+n..] token keys. ARGV: [1] n (0, 1 or 2).
// Returns one string: nspam, nham, the class of the first seen key found
// ("s" or "h", "-" for none), then one item per token, space-separated,
// each in SpamAssassin's multi_hmget form ("s", "/h", or "s/h"; "0" for
// an unknown token). It writes nothing (a replica may run it).
const lookupLua = `
local r = {}
r[1] = redis.call('GET', KEYS[1]) or '0'
r[2] = redis.call('GET', KEYS[2]) or '0'
local nseen = tonumber(ARGV[1])
local seen = '-'
for j = 3, 2 + nseen do
  local v = redis.call('GET', KEYS[j])
  if v == 's' or v == 'h' then
    seen = v
    break
  end
end
r[3] = seen
for j = 3 + nseen, #KEYS do
  local sh = redis.call('HMGET', KEYS[j], 's', 'h')
  local s, h = sh[1] or '0', sh[2] or '0'
  if h == '0' then
    r[#r+1] = s
  elseif s == '0' then
    r[#r+1] = '/' .. h
  else
    r[#r+1] = s .. '/' .. h
  end
end
return table.concat(r, ' ')
`

// NoCache turns the token cache off: every lookup reads every token.
func (s *Store) NoCache() { s.cache = nil }

// LookupScanLua is LookupScan done by lookupLua, as before the pipeline.
func (s *Store) LookupScanLua(ctx context.Context, sc classifier.Scope, keys []tokenizer.Key, out []classifier.Counts, ids []string) (classifier.Magic, classifier.Class, error) {
	p := prefix(sc)
	rkeys := make([]string, 2, 2+len(ids)+len(keys))
	rkeys[0], rkeys[1] = p+"v:NSPAM", p+"v:NHAM"
	for _, id := range ids {
		rkeys = append(rkeys, p+"s:"+id)
	}
	for _, k := range keys {
		rkeys = append(rkeys, tokenKey(p, k))
	}
	reply, err := redis.NewScript(lookupLua).Run(ctx, s.client, rkeys, len(ids)).Text()
	if err != nil {
		return classifier.Magic{}, 0, err
	}
	m := classifier.Magic{DBVersion: classifier.DBVersion}
	var seen classifier.Class
	i := -3
	for item := range strings.SplitSeq(reply, " ") {
		switch {
		case i == -3:
			m.NSpam, _ = strconv.ParseInt(item, 10, 64)
		case i == -2:
			m.NHam, _ = strconv.ParseInt(item, 10, 64)
		case i == -1:
			if item == "s" || item == "h" {
				seen = classifier.Class(item[0])
			}
		case i < len(keys):
			out[i] = parsePair(item)
		}
		i++
	}
	if i != len(keys) {
		return classifier.Magic{}, 0, fmt.Errorf("redis bayes lookup: %d counts for %d tokens", i, len(keys))
	}
	m.NSpam, m.NHam = max(m.NSpam, 0), max(m.NHam, 0)
	return m, seen, nil
}

// parsePair reads "s", "/h" or "s/h".
func parsePair(item string) classifier.Counts {
	sp, hp, _ := strings.Cut(item, "/")
	return classifier.Counts{Spam: count(sp), Ham: count(hp)}
}
