package store

import (
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
)

// MaxStatsBuckets is the most buckets one StatsSeries call may ask for.
const MaxStatsBuckets = 10000

// StatsSeriesParams selects a stats series. The buckets are
// [Since + i*Step, Since + (i+1)*Step) for i from 0 while the bucket starts
// before Until: the last bucket is whole even when Until falls inside it.
type StatsSeriesParams struct {
	// Workflow counts only its runs and entries; empty counts every workflow.
	Workflow string
	// Since is the start of the first bucket, taken to the microsecond.
	Since time.Time
	// Until is after the start of the last bucket.
	Until time.Time
	// Step is the width of a bucket: a whole number of seconds, at least one.
	Step time.Duration
}

// Buckets checks the parameters and returns the series' empty buckets, in
// which a store adds what it counted, and the span they cover, from the
// first bucket's start to the last one's end; every store builds them the
// same way.
func (p *StatsSeriesParams) Buckets() (buckets []*klaxontype.StatsBucket, since, until time.Time, err error) {
	buckets, err = p.emptyBuckets()
	if err != nil {
		return nil, time.Time{}, time.Time{}, err
	}
	since = buckets[0].Start
	return buckets, since, since.Add(time.Duration(len(buckets)) * p.Step), nil
}

func (p *StatsSeriesParams) emptyBuckets() ([]*klaxontype.StatsBucket, error) {
	since := p.Since.Truncate(time.Microsecond).UTC()
	if p.Step < time.Second || p.Step%time.Second != 0 {
		return nil, fmt.Errorf("%w: a stats series needs a step of a whole number of seconds, got %s", klaxontype.ErrInvalid, p.Step)
	}
	if p.Since.IsZero() || !p.Since.Before(p.Until) {
		return nil, fmt.Errorf("%w: a stats series needs since before until", klaxontype.ErrInvalid)
	}
	span := p.Until.Sub(since)
	n := int64(span / p.Step)
	if span%p.Step != 0 {
		n++
	}
	if n > MaxStatsBuckets {
		return nil, fmt.Errorf("%w: a stats series of %d buckets is more than %d", klaxontype.ErrInvalid, n, MaxStatsBuckets)
	}
	buckets := make([]*klaxontype.StatsBucket, n)
	for i := range buckets {
		buckets[i] = klaxontype.NewStatsBucket(since.Add(time.Duration(i) * p.Step))
	}
	return buckets, nil
}
