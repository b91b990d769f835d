package tokenizer

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/gospamd/gospamd/internal/testpeer"
)

// rawTagName reads every tag's name as the tokenizer's TagName gives it
// (or leaves it to TagName), and TagAttr's first empty key tells that a
// tag has no attribute as TagName's hasAttr does: on the HTML parts of
// the corpus and on documents put together from bytes that matter to
// tag names.
func TestRawTagNameAsTagName(t *testing.T) {
	var docs []string
	raws, _ := testpeer.CorpusMessages(t)
	for _, raw := range raws {
		for _, p := range Parse(raw).Parts {
			if p.Leaf && bytes.Contains(p.Decoded, []byte("<")) {
				docs = append(docs, string(p.Decoded))
			}
		}
	}
	pieces := []string{"<", "</", ">", "/>", "/", " ", "\t", "\n", "\r", "\f", "\v", "\x00", "a", "B", "Br",
		"FONT", "x-Y", "é", "\xff", "=", "\"", "'", "href", "=\"x\"", "=y", "<!--", "-->", "<!", "<?", "script",
		"style", "title", "textarea", strings.Repeat("Q", 40), "1", ":", "o:p"}
	rng := rand.New(rand.NewPCG(21, 22))
	for range 20000 {
		docs = append(docs, randomJoin(rng, pieces, 20))
	}
	tags, inPlace := 0, 0
	for _, doc := range docs {
		// Two tokenizers in step: one asked as the renderer does, one
		// by TagName.
		z, ref := html.NewTokenizer(strings.NewReader(doc)), html.NewTokenizer(strings.NewReader(doc))
		z.AllowCDATA(true)
		ref.AllowCDATA(true)
		for {
			tt := z.Next()
			if rt := ref.Next(); rt != tt {
				t.Fatalf("%q: tokenizers out of step", doc)
			}
			if tt == html.ErrorToken {
				break
			}
			if tt != html.StartTagToken && tt != html.EndTagToken && tt != html.SelfClosingTagToken {
				continue
			}
			tags++
			want, wantAttr := ref.TagName()
			var buf [maxRawTagName]byte
			got, ok := rawTagName(buf[:0], z.Raw(), tt == html.EndTagToken)
			if !ok {
				got, _ = z.TagName()
			} else {
				inPlace++
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%q: tag %q: rawTagName %q (ok %v), TagName %q", doc, z.Raw(), got, ok, want)
			}
			if tt == html.EndTagToken {
				continue
			}
			k, _, _ := z.TagAttr()
			if gotAttr := len(k) > 0; gotAttr != wantAttr {
				t.Errorf("%q: tag %q: first key %q, TagName's hasAttr %v", doc, z.Raw(), k, wantAttr)
			}
		}
	}
	if inPlace < tags/2 {
		t.Errorf("only %d of %d tag names read in place", inPlace, tags)
	}
	t.Logf("%d tags, %d names read in place", tags, inPlace)
}
