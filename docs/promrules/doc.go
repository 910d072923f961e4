// Package promrules checks docs/prometheus-rules.yml: that Prometheus's own
// rule parser accepts it and that every metric it names is one Klaxon
// exports. It is a module of its own so that the main module does not depend
// on Prometheus's server code.
package promrules
