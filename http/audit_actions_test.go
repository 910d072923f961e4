package http

import (
	"reflect"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// The API's filter offers every audited action: one added to klaxontype and
// not here would be refused as a filter while its records are listed.
func TestAuditFilterOffersEveryAction(t *testing.T) {
	field, _ := reflect.TypeOf(listAuditInput{}).FieldByName("Action")
	offered := strings.Split(field.Tag.Get("enum"), ",")
	var want []string
	for _, action := range klaxontype.AuditActions() {
		want = append(want, string(action))
	}
	if !reflect.DeepEqual(offered, want) {
		t.Errorf("the action filter's enum is\n%v\nwant klaxontype.AuditActions\n%v", offered, want)
	}
}
