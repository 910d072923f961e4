package http

import (
	"fmt"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
)

// refuseRepeatedQuery refuses a query parameter given more than once unless
// the operation declares it repeatable (entity=k=v): otherwise only the
// first value would count and the others be lost without a word
// (?status=dead&status=completed listed only the dead runs, ?limit=1&limit=1000
// used 1). Several values of a list parameter go in one, comma-separated.
func (s *Server) refuseRepeatedQuery(ctx huma.Context, next func(huma.Context)) {
	u := ctx.URL()
	query := u.Query()
	for _, param := range ctx.Operation().Parameters {
		if param == nil || param.In != "query" || (param.Explode != nil && *param.Explode) {
			continue
		}
		if n := len(query[param.Name]); n > 1 {
			list := ""
			if param.Schema != nil && param.Schema.Type == huma.TypeArray {
				list = fmt.Sprintf(" (for several values give one, comma-separated: %s=a,b)", param.Name)
			}
			_ = huma.WriteErr(s.api, ctx, http.StatusBadRequest,
				fmt.Sprintf("query parameter %s is given %d times; give it once%s", param.Name, n, list),
				&huma.ErrorDetail{Location: "query." + param.Name, Message: "given more than once"})
			return
		}
	}
	next(ctx)
}
