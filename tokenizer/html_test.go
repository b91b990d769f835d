package tokenizer

import "testing"

// TestInternTagInfo checks that the one-lookup tag info agrees with the
// tag tables for every name they hold, and that an unknown name has none.
func TestInternTagInfo(t *testing.T) {
	names := []string{"nosuchtag", "x-unknown", "o:p"}
	for _, set := range []map[string]bool{htmlKnownTags, htmlStyleTags, htmlURITags, htmlCDATATags, htmlParsedTags} {
		for n := range set {
			names = append(names, n)
		}
	}
	for n := range htmlSpaceTags {
		names = append(names, n)
	}
	for _, n := range names {
		ws, hasSpace := htmlSpaceTags[n]
		want := htmlTagInfo{known: htmlKnownTags[n], style: htmlStyleTags[n], uri: htmlURITags[n],
			cdata: htmlCDATATags[n], parsed: htmlParsedTags[n], hasSpace: hasSpace, space: ws}
		if name, info := internTag([]byte(n)); name != n || info != want {
			t.Errorf("internTag(%q) = %q, %+v; want %+v", n, name, info, want)
		}
	}
}
