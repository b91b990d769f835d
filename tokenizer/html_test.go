package tokenizer

import "testing"

// TestInternTagInfo: the one-lookup tag info says what the renderer
// must know of a tag (known to HTML::Parser, changes style, holds URIs,
// read literally or parsed, the text it breaks with), and an unknown
// name has none of it. Each case is written out by hand.
func TestInternTagInfo(t *testing.T) {
	for _, tc := range []struct {
		name string
		want htmlTagInfo
	}{
		{"a", htmlTagInfo{known: true, style: true, uri: true}},
		{"script", htmlTagInfo{known: true, uri: true, cdata: true}},
		{"br", htmlTagInfo{known: true, hasSpace: true, space: "\n"}},
		{"p", htmlTagInfo{known: true, style: true, hasSpace: true, space: "\n\n"}},
		{"xmp", htmlTagInfo{known: true, cdata: true, hasSpace: true, space: "\n\n"}},
		{"noscript", htmlTagInfo{known: true, parsed: true}},
		{"iframe", htmlTagInfo{known: true, uri: true, cdata: true}},
		{"embed", htmlTagInfo{known: true, uri: true, hasSpace: true, space: " "}},
		{"span", htmlTagInfo{known: true, style: true}},
		{"nosuchtag", htmlTagInfo{}},
		{"o:p", htmlTagInfo{}},
	} {
		if name, info := internTag([]byte(tc.name)); name != tc.name || info != tc.want {
			t.Errorf("internTag(%q) = %q, %+v; want %+v", tc.name, name, info, tc.want)
		}
	}
}
