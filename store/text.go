package store

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// Text that a store keeps must be valid UTF-8 without NUL bytes: PostgreSQL
// refuses both in a text or jsonb column, SQLite would keep them and answer
// differently. Klaxon holds one policy for both stores:
//
//   - what a caller names or types (IDs, filters, reasons, entity labels,
//     idempotency keys) is refused with klaxontype.ErrInvalid naming the
//     parameter, by CheckText, before any store is asked;
//   - what the engine writes on its own account (failure reasons, attempt
//     messages and stacks, compensation and delivery errors) comes from
//     programs and providers that may say anything, so it is stored with each
//     NUL byte and each invalid UTF-8 sequence replaced by U+FFFD (the
//     Unicode replacement character, "\uFFFD"), by StorableText. A failure is
//     then recorded, never refused for its content.

// CheckText refuses a value no store can keep, naming the parameter it came
// in: a NUL byte or invalid UTF-8. Its error matches klaxontype.ErrInvalid.
func CheckText(parameter, value string) error {
	if !utf8.ValidString(value) {
		return fmt.Errorf("%w: %s is not valid UTF-8", klaxontype.ErrInvalid, parameter)
	}
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("%w: %s holds a NUL byte", klaxontype.ErrInvalid, parameter)
	}
	return nil
}

// checkTexts is CheckText over pairs of parameter names and values.
func checkTexts(namesAndValues ...string) error {
	for i := 0; i+1 < len(namesAndValues); i += 2 {
		if err := CheckText(namesAndValues[i], namesAndValues[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// checkLabels is CheckText over the keys and values of entity labels.
func checkLabels(parameter string, labels map[string]string) error {
	for key, value := range labels {
		if err := CheckText(parameter+" key", key); err != nil {
			return err
		}
		if err := CheckText(parameter+" "+key, value); err != nil {
			return err
		}
	}
	return nil
}

// StorableText is text the engine writes, made storable by every store: each
// NUL byte and each invalid UTF-8 sequence is replaced by U+FFFD. Text that
// is storable already is returned as it is.
func StorableText(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Storable returns the failure to record with its texts made storable by
// StorableText: a copy when any text changes, params itself otherwise. The
// engine's attempt and failure are never changed in place.
func (p *RunFailParams) Storable() *RunFailParams {
	attemptChanges := p.Attempt != nil && (StorableText(p.Attempt.Message) != p.Attempt.Message || StorableText(p.Attempt.Stack) != p.Attempt.Stack)
	failureChanges := p.Failure != nil && StorableText(p.Failure.Reason) != p.Failure.Reason
	if !attemptChanges && !failureChanges {
		return p
	}
	storable := *p
	if attemptChanges {
		attempt := *p.Attempt
		attempt.Message, attempt.Stack = StorableText(attempt.Message), StorableText(attempt.Stack)
		storable.Attempt = &attempt
	}
	if failureChanges {
		failure := *p.Failure
		failure.Reason = StorableText(failure.Reason)
		storable.Failure = &failure
	}
	return &storable
}
