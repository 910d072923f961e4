package alert

import (
	"context"
	"fmt"
	"time"

	"github.com/klaxonhq/klaxon/klaxontype"
	"github.com/klaxonhq/klaxon/store"
)

// condition is a rule's condition holding for one workflow (and class) at an
// evaluation.
type condition struct {
	workflow  string
	class     klaxontype.FailureClass
	value     float64
	threshold float64
	summary   string
	runIDs    []string
}

// key identifies an alert's episode among its rule's.
func (c *condition) key() alertKey { return alertKey{workflow: c.workflow, class: c.class} }

type alertKey struct {
	workflow string
	class    klaxontype.FailureClass
}

// pass is one evaluation of every rule at one instant: it reads what several
// rules share from the store once.
type pass struct {
	store     Storage
	baselines *baselines
	now       time.Time
	dlqCounts map[[2]time.Time][]*store.DLQCount
	spends    map[spendKey]*spendTotal
	workflows []string
	breakers  []*klaxontype.Breaker
}

func (p *pass) dlqCount(ctx context.Context, since, until time.Time) ([]*store.DLQCount, error) {
	key := [2]time.Time{since, until}
	if counts, ok := p.dlqCounts[key]; ok {
		return counts, nil
	}
	counts, err := p.store.DLQCountCreated(ctx, &store.DLQCountCreatedParams{Since: since, Until: until})
	if err != nil {
		return nil, err
	}
	p.dlqCounts[key] = counts
	return counts, nil
}

// workflowsOf is the rule's workflow, or every workflow ever registered.
func (p *pass) workflowsOf(ctx context.Context, r *Rule) ([]string, error) {
	if r.Workflow != "" {
		return []string{r.Workflow}, nil
	}
	if p.workflows == nil {
		infos, err := p.store.WorkflowList(ctx)
		if err != nil {
			return nil, err
		}
		p.workflows = []string{}
		for _, info := range infos {
			p.workflows = append(p.workflows, info.Name)
		}
	}
	return p.workflows, nil
}

func (p *pass) openBreakers(ctx context.Context) ([]*klaxontype.Breaker, error) {
	if p.breakers == nil {
		breakers, err := p.store.BreakerList(ctx)
		if err != nil {
			return nil, err
		}
		p.breakers = []*klaxontype.Breaker{}
		for _, b := range breakers {
			if b.Open && b.Until.After(p.now) {
				p.breakers = append(p.breakers, b)
			}
		}
	}
	return p.breakers, nil
}

// measure finds where the rule's condition holds now.
func (p *pass) measure(ctx context.Context, r *Rule) ([]*condition, error) {
	// Rules built in Go skip Config.Validate: refuse what would divide by
	// zero or read an empty span.
	switch r.Kind {
	case klaxontype.AlertDLQSpike, klaxontype.AlertSpendSpike, klaxontype.AlertCostPerRunSpike:
		if r.Window <= 0 || r.Baseline <= r.Window {
			return nil, fmt.Errorf("window %s and baseline %s: the baseline must be longer than a positive window", r.Window, r.Baseline)
		}
	case klaxontype.AlertDLQRate, klaxontype.AlertBudgetExceeded:
		if r.Window <= 0 {
			return nil, fmt.Errorf("window %s is not positive", r.Window)
		}
	case klaxontype.AlertStuckRuns:
		if r.Baseline <= 0 || r.Percentile < 1 || r.Percentile > 100 {
			return nil, fmt.Errorf("baseline %s and percentile %d: give a positive baseline and a percentile from 1 to 100", r.Baseline, r.Percentile)
		}
	}
	switch r.Kind {
	case klaxontype.AlertDLQRate, klaxontype.AlertBudgetExceeded:
		return p.dlqRate(ctx, r)
	case klaxontype.AlertDLQSpike:
		return p.dlqSpike(ctx, r)
	case klaxontype.AlertSpendSpike, klaxontype.AlertCostPerRunSpike:
		return p.spend(ctx, r)
	case klaxontype.AlertBreakerOpen:
		return p.breakerOpen(ctx, r)
	case klaxontype.AlertStuckRuns:
		return p.stuckRuns(ctx, r)
	case klaxontype.AlertNoLiveWorker:
		return p.noLiveWorker(ctx, r)
	case klaxontype.AlertApprovalOverdue:
		return p.approvalOverdue(ctx, r)
	}
	return nil, fmt.Errorf("rule %q: kind %q has no measure", r.Name, r.Kind)
}

// dlqMatches picks the counts of the rule's workflow and class.
func dlqMatches(r *Rule, counts []*store.DLQCount) []*store.DLQCount {
	class := r.Class
	if r.Kind == klaxontype.AlertBudgetExceeded {
		class = klaxontype.ClassBudgetExceeded
	}
	var matches []*store.DLQCount
	for _, c := range counts {
		if (r.Workflow == "" || c.Workflow == r.Workflow) && (class == "" || c.Class == class) {
			matches = append(matches, c)
		}
	}
	return matches
}

func (p *pass) dlqRate(ctx context.Context, r *Rule) ([]*condition, error) {
	counts, err := p.dlqCount(ctx, p.now.Add(-r.Window), p.now)
	if err != nil {
		return nil, err
	}
	var holding []*condition
	for _, c := range dlqMatches(r, counts) {
		if float64(c.Count) < r.Threshold {
			continue
		}
		what := counted(c.Count, string(c.Class)+" dead letter")
		if r.Kind == klaxontype.AlertBudgetExceeded {
			what = counted(c.Count, "run") + " dead for exceeding a token or cost budget"
		}
		cond := &condition{
			workflow: c.Workflow, class: c.Class, value: float64(c.Count), threshold: r.Threshold,
			summary: fmt.Sprintf("%s: %s in the last %s (threshold %v)", c.Workflow, what, duration(r.Window), r.Threshold),
		}
		if cond.runIDs, err = p.deadLetterRuns(ctx, c.Workflow, c.Class, r.Window); err != nil {
			return nil, err
		}
		holding = append(holding, cond)
	}
	return holding, nil
}

func (p *pass) dlqSpike(ctx context.Context, r *Rule) ([]*condition, error) {
	recent, err := p.dlqCount(ctx, p.now.Add(-r.Window), p.now)
	if err != nil {
		return nil, err
	}
	baseline, err := cachedBaseline(p.baselines, "dlq "+r.Baseline.String()+" "+r.Window.String(), p.now, func() ([]*store.DLQCount, error) {
		return p.dlqCount(ctx, p.now.Add(-r.Baseline), p.now.Add(-r.Window))
	})
	if err != nil {
		return nil, err
	}
	before := map[alertKey]int{}
	for _, c := range baseline {
		before[alertKey{c.Workflow, c.Class}] = c.Count
	}
	scale := float64(r.Window) / float64(r.Baseline-r.Window)
	var holding []*condition
	for _, c := range dlqMatches(r, recent) {
		expected := float64(before[alertKey{c.Workflow, c.Class}]) * scale
		threshold := max(float64(r.MinCount), r.Factor*expected)
		if float64(c.Count) < threshold {
			continue
		}
		versus := fmt.Sprintf("none in the trailing %s", duration(r.Baseline))
		if expected > 0 {
			versus = fmt.Sprintf("%.1fx the trailing %s rate", float64(c.Count)/expected, duration(r.Baseline))
		}
		cond := &condition{
			workflow: c.Workflow, class: c.Class, value: float64(c.Count), threshold: threshold,
			summary: fmt.Sprintf("%s: %s in the last %s, %s", c.Workflow, counted(c.Count, string(c.Class)+" dead letter"), duration(r.Window), versus),
		}
		if cond.runIDs, err = p.deadLetterRuns(ctx, c.Workflow, c.Class, r.Window); err != nil {
			return nil, err
		}
		holding = append(holding, cond)
	}
	return holding, nil
}

// deadLetterRuns names the runs of the newest entries of a workflow and class
// created in the window.
func (p *pass) deadLetterRuns(ctx context.Context, workflow string, class klaxontype.FailureClass, window time.Duration) ([]string, error) {
	entries, err := p.store.DLQList(ctx, &store.DLQListParams{
		Workflow: workflow, Classes: []klaxontype.FailureClass{class},
		CreatedAfter: p.now.Add(-window), CreatedBefore: p.now, Limit: store.MaxAlertRunIDs,
	})
	if err != nil {
		return nil, err
	}
	// A run replayed with resume that dies again has an entry per death;
	// it is one run behind the alert.
	ids := []string{}
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !seen[e.RunID] {
			seen[e.RunID] = true
			ids = append(ids, e.RunID)
		}
	}
	return ids, nil
}

// spendTotal sums a workflow's ended runs and their known cost over a span;
// runs of buckets whose cost is unknown count apart, never as $0.
type spendTotal struct {
	runs        int
	knownRuns   int
	knownUSD    float64
	unknownRuns int
}

func (p *pass) spendOver(ctx context.Context, workflow string, since, until time.Time) (*spendTotal, error) {
	key := spendKey{workflow: workflow, since: since, until: until}
	if total, ok := p.spends[key]; ok {
		return total, nil
	}
	buckets, err := p.store.SpendListBuckets(ctx, &store.SpendSeriesParams{
		Workflow: workflow, Since: since, Until: until, Bucket: max(until.Sub(since), time.Second),
	})
	if err != nil {
		return nil, err
	}
	total := &spendTotal{}
	for _, b := range buckets {
		total.runs += b.Runs
		if b.Spend.Cost.Unknown {
			total.unknownRuns += b.Runs
			continue
		}
		total.knownRuns += b.Runs
		total.knownUSD += b.Spend.Cost.USD
	}
	p.spends[key] = total
	return total, nil
}

// spendKey identifies a workflow's spend over a span, which the spend and
// cost-per-run rules share within a pass.
type spendKey struct {
	workflow     string
	since, until time.Time
}

func (p *pass) spend(ctx context.Context, r *Rule) ([]*condition, error) {
	workflows, err := p.workflowsOf(ctx, r)
	if err != nil {
		return nil, err
	}
	scale := float64(r.Window) / float64(r.Baseline-r.Window)
	var holding []*condition
	for _, workflow := range workflows {
		recent, err := p.spendOver(ctx, workflow, p.now.Add(-r.Window), p.now)
		if err != nil {
			return nil, err
		}
		if recent.runs == 0 {
			continue
		}
		baseline, err := cachedBaseline(p.baselines, "spend "+workflow+" "+r.Baseline.String()+" "+r.Window.String(), p.now, func() (*spendTotal, error) {
			return p.spendOver(ctx, workflow, p.now.Add(-r.Baseline), p.now.Add(-r.Window))
		})
		if err != nil {
			return nil, err
		}
		unknown := ""
		if recent.unknownRuns > 0 {
			unknown = " (at least: some runs' cost is unknown)"
		}
		switch r.Kind {
		case klaxontype.AlertSpendSpike:
			if baseline.unknownRuns > 0 {
				continue // a baseline with unknown cost cannot be compared
			}
			expected := baseline.knownUSD * scale
			threshold := max(r.MinUSD, r.Factor*expected)
			if recent.knownUSD < threshold || recent.knownUSD == 0 {
				continue
			}
			versus := fmt.Sprintf("nothing spent in the trailing %s", duration(r.Baseline))
			if expected > 0 {
				versus = fmt.Sprintf("%.1fx the trailing %s rate", recent.knownUSD/expected, duration(r.Baseline))
			}
			holding = append(holding, &condition{
				workflow: workflow, value: recent.knownUSD, threshold: threshold, runIDs: []string{},
				summary: fmt.Sprintf("%s: $%.4f spent in the last %s%s, %s", workflow, recent.knownUSD, duration(r.Window), unknown, versus),
			})
		case klaxontype.AlertCostPerRunSpike:
			if recent.knownRuns < r.MinRuns || baseline.knownRuns < r.MinRuns || baseline.knownUSD <= 0 {
				continue
			}
			perRun := recent.knownUSD / float64(recent.knownRuns)
			usual := baseline.knownUSD / float64(baseline.knownRuns)
			if perRun < r.Factor*usual {
				continue
			}
			holding = append(holding, &condition{
				workflow: workflow, value: perRun, threshold: r.Factor * usual, runIDs: []string{},
				summary: fmt.Sprintf("%s: $%.6f per run over %s in the last %s, %.1fx the trailing %s average of $%.6f",
					workflow, perRun, counted(recent.knownRuns, "run"), duration(r.Window), perRun/usual, duration(r.Baseline), usual),
			})
		}
	}
	return holding, nil
}

func (p *pass) breakerOpen(ctx context.Context, r *Rule) ([]*condition, error) {
	breakers, err := p.openBreakers(ctx)
	if err != nil {
		return nil, err
	}
	var holding []*condition
	for _, b := range breakers {
		if r.Workflow != "" && b.Workflow != r.Workflow {
			continue
		}
		holding = append(holding, &condition{
			workflow: b.Workflow, value: 1, threshold: 1, runIDs: []string{},
			summary: fmt.Sprintf("%s: breaker open since %s until %s, its runs wait: %s",
				b.Workflow, b.OpenedAt.UTC().Format(time.RFC3339), b.Until.UTC().Format(time.RFC3339), b.Reason),
		})
	}
	return holding, nil
}

// unfinished are the statuses of runs that have not ended.
// A waiting run counts once its wait is due (AvailableBefore): waiting on
// purpose is not being stuck.
var unfinished = []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusRunning,
	klaxontype.RunStatusRetrying, klaxontype.RunStatusWaiting, klaxontype.RunStatusCompensating}

func (p *pass) stuckRuns(ctx context.Context, r *Rule) ([]*condition, error) {
	workflows, err := p.workflowsOf(ctx, r)
	if err != nil {
		return nil, err
	}
	percentiles, err := cachedBaseline(p.baselines, fmt.Sprintf("durations %s p%d", r.Baseline, r.Percentile), p.now, func() ([]*store.RunDurationPercentile, error) {
		return p.store.RunListDurationPercentiles(ctx, &store.RunDurationPercentileParams{
			Since: p.now.Add(-r.Baseline), Until: p.now, Percentile: r.Percentile,
		})
	})
	if err != nil {
		return nil, err
	}
	usual := map[string]time.Duration{}
	for _, pc := range percentiles {
		usual[pc.Workflow] = pc.Duration
	}
	var holding []*condition
	for _, workflow := range workflows {
		limit := max(r.MinAge, time.Duration(r.Factor*float64(usual[workflow])))
		overdue, err := p.store.RunCountOverdue(ctx, &store.RunCountOverdueParams{
			Workflow: workflow, Statuses: unfinished, CreatedBefore: p.now.Add(-limit), AvailableBefore: p.now,
		})
		if err != nil {
			return nil, err
		}
		if overdue.Count == 0 {
			continue
		}
		why := fmt.Sprintf("no run ended in the last %s to compare with", duration(r.Baseline))
		if d, ok := usual[workflow]; ok {
			why = fmt.Sprintf("%vx its p%d duration of %s over the last %s", r.Factor, r.Percentile, duration(rounded(d)), duration(r.Baseline))
		}
		holding = append(holding, &condition{
			workflow: workflow, value: float64(overdue.Count), threshold: 1, runIDs: overdue.RunIDs,
			summary: fmt.Sprintf("%s: %s unfinished for more than %s (%s, at least %s)",
				workflow, counted(overdue.Count, "run"), duration(limit.Round(time.Second)), why, duration(r.MinAge)),
		})
	}
	return holding, nil
}

func (p *pass) noLiveWorker(ctx context.Context, r *Rule) ([]*condition, error) {
	workflows, err := p.workflowsOf(ctx, r)
	if err != nil {
		return nil, err
	}
	breakers, err := p.openBreakers(ctx)
	if err != nil {
		return nil, err
	}
	paused := map[string]bool{}
	for _, b := range breakers {
		paused[b.Workflow] = true
	}
	cutoff := p.now.Add(-r.After)
	var holding []*condition
	for _, workflow := range workflows {
		if paused[workflow] {
			continue // its runs wait on purpose: breaker_open says so
		}
		waiting, err := p.store.RunCountOverdue(ctx, &store.RunCountOverdueParams{
			Workflow: workflow, Statuses: []klaxontype.RunStatus{klaxontype.RunStatusPending, klaxontype.RunStatusRetrying, klaxontype.RunStatusWaiting},
			AvailableBefore: cutoff,
		})
		if err != nil {
			return nil, err
		}
		if waiting.Count == 0 {
			continue
		}
		activity, err := p.store.RunGetActivity(ctx, &store.RunActivityParams{Workflow: workflow})
		if err != nil {
			return nil, err
		}
		last := activity.LastLeaseAt
		if activity.LastFinishedAt.After(last) {
			last = activity.LastFinishedAt
		}
		if last.After(cutoff) {
			continue
		}
		seen := "no worker has ever claimed one of its runs"
		if !last.IsZero() {
			seen = "no worker has claimed, renewed or finished one of its runs since " + last.UTC().Format(time.RFC3339)
		}
		holding = append(holding, &condition{
			workflow: workflow, value: float64(waiting.Count), threshold: 1, runIDs: waiting.RunIDs,
			summary: fmt.Sprintf("%s: %s waiting to be claimed for more than %s and %s", workflow, counted(waiting.Count, "run"), duration(r.After), seen),
		})
	}
	return holding, nil
}

// counted puts a count before a noun, plural but for one: "1 run", "3 runs".
func counted(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// rounded keeps a duration's significant part: milliseconds under a second,
// seconds above.
func rounded(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(time.Second)
}
