// Package ofprovider is the OpenFeature provider of Vexil for github.com/open-feature/go-sdk:
// flag checks go to a vexil.Client and are answered locally.
//
//	client, err := vexil.New(ctx, vexil.WithSnapshotFile("flags.json"))
//	...
//	openfeature.SetProviderAndWait(ofprovider.New(client))
//	of := openfeature.NewDefaultClient()
//	on, _ := of.BooleanValue(ctx, "new-checkout", false, openfeature.NewEvaluationContext("user-42", nil))
//
// Evaluations carry OpenFeature's reasons (plus PREREQUISITE_FAILED, which OpenFeature's
// open set of reasons allows) and error codes; the variant is the served variation's index
// ("0", "1", …); flag metadata holds the snapshot "version", the deciding "ruleId" and
// "inExperiment". The provider emits PROVIDER_READY, PROVIDER_STALE and PROVIDER_ERROR as
// the client's status changes, and PROVIDER_CONFIGURATION_CHANGED with the changed flag
// keys for each new snapshot. Tracking calls (Client.Track) go to the function given with
// WithTracker: the hook point for experiment conversions.
package ofprovider

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	vexil "github.com/vexil-flags/vexil/hosts/go"
)

// Name is the provider name in OpenFeature metadata.
const Name = "vexil"

// TrackEvent is one tracking call: an event (a conversion) for a context, with an optional
// numeric value and attributes.
type TrackEvent struct {
	Name         string
	TargetingKey string
	Attributes   map[string]any
	Value        float64
	Details      map[string]any
	Time         time.Time
}

// Option configures a Provider.
type Option func(*Provider)

// WithTracker sends OpenFeature tracking calls to fn (it runs on the caller's goroutine: queue,
// do not block).
func WithTracker(fn func(context.Context, TrackEvent)) Option {
	return func(p *Provider) { p.track = fn }
}

// WithCloseOnShutdown makes Shutdown close the vexil client too.
func WithCloseOnShutdown() Option {
	return func(p *Provider) { p.closeClient = true }
}

// Provider adapts a vexil.Client to OpenFeature.
type Provider struct {
	c           *vexil.Client
	track       func(context.Context, TrackEvent)
	closeClient bool

	events chan of.Event
	mu     sync.Mutex
	queue  []of.Event
	wake   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	remove []func()
	once   sync.Once
}

// New returns a provider for c. The provider does not own c unless WithCloseOnShutdown.
func New(c *vexil.Client, opts ...Option) *Provider {
	p := &Provider{
		c:      c,
		events: make(chan of.Event),
		wake:   make(chan struct{}, 1),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	go p.forward()
	p.remove = append(p.remove,
		c.OnStatus(func(st vexil.Status) { p.emitStatus(st) }),
		c.OnChange(func(ch vexil.Change) {
			p.emit(of.Event{ProviderName: Name, EventType: of.ProviderConfigChange, ProviderEventDetails: of.ProviderEventDetails{
				Message:       "snapshot " + strconv.FormatInt(ch.OldVersion, 10) + " → " + strconv.FormatInt(ch.NewVersion, 10),
				FlagChanges:   ch.Keys,
				EventMetadata: map[string]any{"oldVersion": ch.OldVersion, "newVersion": ch.NewVersion},
			}})
		}))
	return p
}

func (p *Provider) emitStatus(st vexil.Status) {
	d := of.ProviderEventDetails{Message: st.Reason, EventMetadata: map[string]any{"version": st.Version}}
	switch st.State {
	case vexil.StateReady:
		p.emit(of.Event{ProviderName: Name, EventType: of.ProviderReady, ProviderEventDetails: d})
	case vexil.StateStale:
		p.emit(of.Event{ProviderName: Name, EventType: of.ProviderStale, ProviderEventDetails: d})
	case vexil.StateError:
		d.ErrorCode = of.ProviderNotReadyCode
		if st.Version >= 0 {
			d.ErrorCode = of.GeneralCode
		}
		p.emit(of.Event{ProviderName: Name, EventType: of.ProviderError, ProviderEventDetails: d})
	}
}

// emit queues an event without blocking the client's update goroutine; forward hands the
// queue to the SDK in order.
func (p *Provider) emit(e of.Event) {
	p.mu.Lock()
	p.queue = append(p.queue, e)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

func (p *Provider) forward() {
	defer close(p.done)
	for {
		p.mu.Lock()
		q := p.queue
		p.queue = nil
		p.mu.Unlock()
		for _, e := range q {
			select {
			case p.events <- e:
			case <-p.stop:
				return
			}
		}
		select {
		case <-p.wake:
		case <-p.stop:
			return
		}
	}
}

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: Name} }

// Hooks returns no hooks.
func (p *Provider) Hooks() []of.Hook { return nil }

// EventChannel is where the SDK reads the provider's events.
func (p *Provider) EventChannel() <-chan of.Event { return p.events }

// Init reports whether the client has flags to serve. A client serving its offline cache or
// bootstrap (STALE) is usable: Init succeeds and PROVIDER_STALE follows.
func (p *Provider) Init(of.EvaluationContext) error {
	st := p.c.Status()
	switch st.State {
	case vexil.StateError, vexil.StateNotReady:
		if st.Err != nil {
			return st.Err
		}
		return errors.New("vexil: " + st.Reason)
	case vexil.StateStale:
		p.emitStatus(st)
	}
	return nil
}

// Shutdown stops the provider's events (and closes the client with WithCloseOnShutdown).
func (p *Provider) Shutdown() {
	p.once.Do(func() {
		for _, r := range p.remove {
			r()
		}
		close(p.stop)
		<-p.done
		if p.closeClient {
			_ = p.c.Close()
		}
	})
}

// Track hands a tracking call to the WithTracker function.
func (p *Provider) Track(ctx context.Context, name string, evalCtx of.EvaluationContext, details of.TrackingEventDetails) {
	if p.track == nil {
		return
	}
	p.track(ctx, TrackEvent{
		Name:         name,
		TargetingKey: evalCtx.TargetingKey(),
		Attributes:   evalCtx.Attributes(),
		Value:        details.Value(),
		Details:      details.Attributes(),
		Time:         time.Now(),
	})
}

// toContext converts OpenFeature's flattened context.
func toContext(flat of.FlattenedContext) vexil.Context {
	key, _ := flat[of.TargetingKey].(string)
	attrs := make(map[string]any, len(flat))
	for k, v := range flat {
		if k != of.TargetingKey {
			attrs[k] = v
		}
	}
	return vexil.Context{TargetingKey: key, Attributes: attrs}
}

// resolution converts a vexil detail.
func resolution(d vexil.Detail) of.ProviderResolutionDetail {
	r := of.ProviderResolutionDetail{
		Reason:       of.Reason(d.Reason),
		FlagMetadata: of.FlagMetadata{"version": d.Version},
	}
	if d.Variation >= 0 {
		r.Variant = strconv.Itoa(d.Variation)
	}
	if d.RuleID != "" {
		r.FlagMetadata["ruleId"] = d.RuleID
	}
	if d.InExperiment {
		r.FlagMetadata["inExperiment"] = true
	}
	if d.ErrorCode == vexil.ErrorNone {
		return r
	}
	msg := d.Err.Error()
	switch d.ErrorCode {
	case vexil.ErrorFlagNotFound:
		r.ResolutionError = of.NewFlagNotFoundResolutionError(msg)
	case vexil.ErrorParse:
		r.ResolutionError = of.NewParseErrorResolutionError(msg)
	case vexil.ErrorTypeMismatch:
		r.ResolutionError = of.NewTypeMismatchResolutionError(msg)
	case vexil.ErrorInvalidContext:
		r.ResolutionError = of.NewInvalidContextResolutionError(msg)
	case vexil.ErrorProviderNotReady:
		r.ResolutionError = of.NewProviderNotReadyResolutionError(msg)
	default:
		r.ResolutionError = of.NewGeneralResolutionError(msg)
	}
	return r
}

// BooleanEvaluation evaluates a boolean flag.
func (p *Provider) BooleanEvaluation(_ context.Context, flag string, def bool, flat of.FlattenedContext) of.BoolResolutionDetail {
	v, d := p.c.BoolDetail(toContext(flat), flag, def)
	return of.BoolResolutionDetail{Value: v, ProviderResolutionDetail: resolution(d)}
}

// StringEvaluation evaluates a string flag.
func (p *Provider) StringEvaluation(_ context.Context, flag string, def string, flat of.FlattenedContext) of.StringResolutionDetail {
	v, d := p.c.StringDetail(toContext(flat), flag, def)
	return of.StringResolutionDetail{Value: v, ProviderResolutionDetail: resolution(d)}
}

// FloatEvaluation evaluates a number flag.
func (p *Provider) FloatEvaluation(_ context.Context, flag string, def float64, flat of.FlattenedContext) of.FloatResolutionDetail {
	v, d := p.c.FloatDetail(toContext(flat), flag, def)
	return of.FloatResolutionDetail{Value: v, ProviderResolutionDetail: resolution(d)}
}

// IntEvaluation evaluates a number flag whose values are integers (a fraction is
// TYPE_MISMATCH).
func (p *Provider) IntEvaluation(_ context.Context, flag string, def int64, flat of.FlattenedContext) of.IntResolutionDetail {
	v, d := p.c.IntDetail(toContext(flat), flag, def)
	return of.IntResolutionDetail{Value: v, ProviderResolutionDetail: resolution(d)}
}

// ObjectEvaluation evaluates a flag of any kind; the value is decoded from JSON
// (map[string]any, []any, string, float64, bool or nil).
func (p *Provider) ObjectEvaluation(_ context.Context, flag string, def any, flat of.FlattenedContext) of.InterfaceResolutionDetail {
	_, d := p.c.JSONDetail(toContext(flat), flag, nil)
	if d.Variation < 0 || d.ErrorCode != vexil.ErrorNone {
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: resolution(d)}
	}
	var v any
	if err := json.Unmarshal([]byte(d.ValueJSON), &v); err != nil {
		d.ErrorCode, d.Err, d.Reason = vexil.ErrorParse, err, vexil.ReasonError
		return of.InterfaceResolutionDetail{Value: def, ProviderResolutionDetail: resolution(d)}
	}
	return of.InterfaceResolutionDetail{Value: v, ProviderResolutionDetail: resolution(d)}
}

// The interfaces the SDK looks for.
var (
	_ of.FeatureProvider = (*Provider)(nil)
	_ of.StateHandler    = (*Provider)(nil)
	_ of.EventHandler    = (*Provider)(nil)
	_ of.Tracker         = (*Provider)(nil)
)
