package store

import (
	"fmt"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// CheckOutboxGiveUp refuses a give-up that does not say which channel, why
// and who: giving notifications up is a person's decision, kept with them.
func CheckOutboxGiveUp(params *OutboxGiveUpParams) error {
	switch {
	case params.Channel == "":
		return fmt.Errorf("%w: giving up notifications needs the channel", klaxontype.ErrInvalid)
	case params.Reason == "":
		return fmt.Errorf("%w: giving up the notifications of channel %s needs a reason", klaxontype.ErrInvalid, params.Channel)
	case params.Actor == "":
		return fmt.Errorf("%w: giving up the notifications of channel %s needs an actor", klaxontype.ErrInvalid, params.Channel)
	}
	return checkTexts("the channel", params.Channel, "the reason", params.Reason, "the actor", params.Actor)
}

// OutboxGiveUpError is the last error a given-up notification keeps: who
// gave it up, and why.
func OutboxGiveUpError(params *OutboxGiveUpParams) string {
	return "given up by " + params.Actor + ": " + params.Reason
}
