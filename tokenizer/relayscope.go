package tokenizer

import "strings"

// A RelayScope names a part of the header by the relays that may have
// written it: SpamAssassin's ALL-TRUSTED, ALL-INTERNAL, ALL-UNTRUSTED and
// ALL-EXTERNAL pseudo-headers.
type RelayScope int

// The relay scopes.
const (
	// ScopeTrusted is every field above (and including) the Received
	// field written by the last trusted relay's receiver: the first
	// untrusted relay's Received field is included, as SpamAssassin
	// includes it.
	ScopeTrusted RelayScope = iota
	// ScopeInternal is ScopeTrusted with internal relays.
	ScopeInternal
	// ScopeUntrusted is every field from the Received field of the first
	// untrusted relay down, the fields above the first Received field
	// excluded.
	ScopeUntrusted
	// ScopeExternal is ScopeUntrusted with external relays.
	ScopeExternal
)

// ScopedFields returns the header fields of scope, in message order, as
// SpamAssassin's get_all_hdrs_in_rcvd_index_range selects them.
func (m *Message) ScopedFields(scope RelayScope) []Field {
	// SpamAssassin's last_trusted_relay_index / last_internal_relay_index
	// count the Received headers (skipped ones included) from the top
	// while the relays are still trusted (internal); "+1" makes them the
	// index of the first Received field outside.
	boundary := 0
	for _, r := range m.Relays {
		if !r.Ignored && !r.Unparseable {
			inside := r.Trusted || r.fetchReset
			if scope == ScopeInternal || scope == ScopeExternal {
				inside = r.Internal
			}
			if !inside {
				break
			}
		}
		boundary++
	}
	var out []Field
	index := -1 // Received fields seen so far, minus one
	for _, f := range m.Header {
		if strings.EqualFold(f.Name, "Received") {
			index++
		}
		switch scope {
		case ScopeTrusted, ScopeInternal:
			if index < boundary {
				out = append(out, f)
			} else if index == boundary {
				// The Received field at the boundary is kept; what
				// follows it is not.
				return append(out, f)
			}
		default:
			if index >= boundary {
				out = append(out, f)
			}
		}
	}
	return out
}
