package eval

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gospamd/gospamd/rules/cf"
	"github.com/gospamd/gospamd/tokenizer"
)

// testPolicy parses testdata/lists.cf.
func testPolicy(t *testing.T) *cf.Policy {
	t.Helper()
	pol, diags, err := cf.ParseFiles(context.Background(), []string{filepath.Join("testdata", "lists.cf")}, cf.Options{KnownPlugins: cf.DebianDefaultPlugins})
	if err != nil {
		t.Fatalf("parse lists.cf: %v", err)
	}
	if n := cf.CountErrors(diags); n > 0 {
		t.Fatalf("lists.cf: %d errors: %v", n, diags)
	}
	return pol
}

func fixture(t *testing.T, name string, pol *cf.Policy) *Context {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return &Context{Msg: tokenizer.Parse(raw), Policy: pol, Now: time.Date(2002, 8, 23, 0, 0, 0, 0, time.UTC)}
}

func TestFunctions(t *testing.T) {
	pol := testPolicy(t)
	reg := Default()
	tests := []struct {
		file string
		fn   string
		args []string
		want bool
	}{
		// HTMLEval
		{"html.eml", "html_test", []string{"html"}, true},
		{"headers.eml", "html_test", []string{"html"}, false},
		{"html.eml", "html_tag_exists", []string{"center"}, true},
		{"html.eml", "html_tag_exists", []string{"marquee"}, false},
		{"html.eml", "html_tag_balance", []string{"center", "!= 0"}, true},
		{"html.eml", "html_tag_balance", []string{"title", "!= 0"}, false},
		{"html.eml", "html_range", []string{"max_size", "6", "inf"}, true},
		{"html.eml", "html_range", []string{"max_size", "7", "inf"}, false},
		{"html.eml", "html_range", []string{"bad_tag_ratio", "0", "1"}, true},
		{"html.eml", "html_range", []string{"closed_extra_ratio", "0", "inf"}, true},
		{"html.eml", "html_range", []string{"obfuscation_ratio", "0", "1"}, true},
		{"html.eml", "html_test", []string{"font_face_bad"}, true},
		{"html.eml", "html_test", []string{"embeds"}, true},
		{"html.eml", "html_test", []string{"form_action_mailto"}, false},
		{"html.eml", "html_text_match", []string{"comment", `<!-- saved from url=\(\d{4}\)`}, true},
		{"html.eml", "html_text_match", []string{"comment", `<!(?!-).{0,6}>`}, false},
		{"html.eml", "html_text_match", []string{"anchor", `<img>`}, true},
		{"html.eml", "html_text_match", []string{"title", `.{120}`}, false},
		{"html.eml", "html_title_subject_ratio", []string{"3.5"}, true},
		{"html.eml", "html_image_ratio", []string{"0", "0.01"}, true},
		{"html.eml", "html_image_ratio", []string{"0.5", "1"}, false},
		{"html.eml", "html_image_only", []string{"0", "400"}, false},
		{"html.eml", "html_eval", []string{"length", "> 384"}, true},
		{"html.eml", "html_eval", []string{"length", "< 384"}, false},
		{"html.eml", "check_iframe_src", nil, true},
		{"html.eml", "check_https_http_mismatch", []string{"1", "10"}, true},
		{"headers.eml", "check_https_http_mismatch", []string{"1", "10"}, false},
		// MIMEEval
		{"html.eml", "check_for_mime_html", nil, true},
		{"html.eml", "check_for_mime_html_only", nil, false},
		{"html.eml", "check_mime_multipart_ratio", []string{"0.00", "0.5"}, true},
		{"mime.eml", "check_for_mime", []string{"mime_base64_encoded_text"}, true},
		{"mime.eml", "check_for_mime", []string{"mime_qp_long_line"}, true},
		{"mime.eml", "check_for_mime", []string{"mime_attachment"}, true},
		{"mime.eml", "check_for_mime", []string{"mime_missing_boundary"}, false},
		{"html.eml", "check_for_mime", []string{"mime_attachment"}, false},
		{"mime.eml", "check_msg_parse_flags", []string{"mime_epilogue_exists"}, true},
		{"mime.eml", "check_msg_parse_flags", []string{"missing_mime_headers"}, false},
		{"html.eml", "check_msg_parse_flags", []string{"mime_epilogue_exists"}, false},
		{"mime.eml", "check_base64_length", []string{"79"}, true},
		{"mime.eml", "check_base64_length", []string{"78", "79"}, false},
		{"headers.eml", "check_body_length", []string{"128"}, true},
		{"mime.eml", "check_body_length", []string{"128"}, false},
		// ImageInfo
		{"mime.eml", "image_count", []string{"gif", "1", "1"}, true},
		{"mime.eml", "image_count", []string{"png", "1"}, false},
		{"mime.eml", "pixel_coverage", []string{"gif", "1", "1"}, true},
		{"mime.eml", "pixel_coverage", []string{"all", "62500", "300000"}, false},
		// HeaderEval
		{"headers.eml", "check_for_shifted_date", []string{"6", "12"}, true},
		{"headers.eml", "check_for_shifted_date", []string{"-6", "-3"}, false},
		{"headers.eml", "check_for_shifted_date", []string{"undef", "-96"}, false},
		{"headers.eml", "check_header_count_range", []string{"Received", "1", "1"}, true},
		{"headers.eml", "check_header_count_range", []string{"Subject", "2", "999"}, false},
		{"headers.eml", "check_for_missing_to_header", nil, true},
		{"html.eml", "check_for_missing_to_header", nil, false},
		{"headers.eml", "subject_is_all_caps", nil, true},
		{"html.eml", "subject_is_all_caps", nil, false},
		{"headers.eml", "check_ratware_name_id", nil, true},
		{"html.eml", "check_ratware_name_id", nil, false},
		{"headers.eml", "gated_through_received_hdr_remover", nil, false},
		{"html.eml", "gated_through_received_hdr_remover", nil, true},
		{"headers.eml", "check_illegal_chars", []string{"Subject", "0.00", "2"}, false},
		{"headers.eml", "check_equal_from_domains", nil, false},
		// RelayEval
		{"headers.eml", "check_no_relays", nil, false},
		{"html.eml", "check_no_relays", nil, true},
		{"headers.eml", "check_relays_unparseable", nil, false},
		// FreeMail
		{"headers.eml", "check_freemail_from", nil, true},
		{"lists.eml", "check_freemail_from", nil, false},
		{"headers.eml", "check_freemail_replyto", []string{"replyto"}, true},
		{"headers.eml", "check_freemail_header", []string{"Reply-To"}, true},
		{"lists.eml", "check_freemail_header", []string{"Reply-To"}, false},
		// WLBLEval and lists
		{"lists.eml", "check_from_in_welcomelist", nil, true},
		{"headers.eml", "check_from_in_welcomelist", nil, false},
		{"lists.eml", "check_from_in_blocklist", nil, false},
		{"lists.eml", "check_to_in_welcomelist", nil, true},
		{"lists.eml", "check_to_in_all_spam", nil, true},
		{"lists.eml", "check_to_in_more_spam", nil, false},
		{"lists.eml", "check_to_in_blocklist", nil, false},
		{"lists.eml", "check_from_in_list", []string{"BANKS"}, false},
		{"lists.eml", "check_replyto_in_list", []string{"BANKS"}, true},
		{"lists.eml", "check_subject_in_blocklist", nil, true},
		{"headers.eml", "check_subject_in_blocklist", nil, false},
		{"lists.eml", "check_uri_host_listed", []string{"BAD"}, true},
		{"headers.eml", "check_uri_host_listed", []string{"BAD"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.file+"/"+tc.fn, func(t *testing.T) {
			fn, ok := reg.Lookup(tc.fn)
			if !ok {
				t.Fatalf("%s not registered", tc.fn)
			}
			got, err := fn(fixture(t, tc.file, pol), tc.args)
			if err != nil {
				t.Fatalf("%s(%q): %v", tc.fn, tc.args, err)
			}
			if got != tc.want {
				t.Errorf("%s(%q) on %s = %v, want %v", tc.fn, tc.args, tc.file, got, tc.want)
			}
		})
	}
}

func TestArgumentErrors(t *testing.T) {
	reg := Default()
	c := fixture(t, "html.eml", nil)
	for _, tc := range []struct {
		fn   string
		args []string
	}{
		{"html_range", []string{"max_size"}},
		{"html_eval", []string{"length", "; system('x')"}},
		{"check_for_shifted_date", []string{"1"}},
		{"html_text_match", []string{"comment", "("}},
	} {
		fn, _ := reg.Lookup(tc.fn)
		if _, err := fn(c, tc.args); err == nil {
			t.Errorf("%s(%q): no error", tc.fn, tc.args)
		}
	}
}

func TestRegistry(t *testing.T) {
	reg := Default()
	names := reg.Names()
	if len(names) < 40 {
		t.Errorf("%d functions registered, want at least 40", len(names))
	}
	for _, n := range []string{"check_from_in_whitelist", "check_to_in_blacklist", "check_uri_host_in_whitelist"} {
		if _, ok := reg.Lookup(n); !ok {
			t.Errorf("3.x alias %s missing", n)
		}
	}
	if _, ok := reg.Lookup("check_bayes"); ok {
		t.Error("check_bayes belongs to the engine, not this registry")
	}
}

func TestPerlNum(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
	}{{"12", 12}, {" .05", 0.05}, {"-48", -48}, {"0400", 400}, {"3abc", 3}, {"abc", 0}, {"1e3", 1000}} {
		if got := perlNum(tc.in); got != tc.want {
			t.Errorf("perlNum(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
