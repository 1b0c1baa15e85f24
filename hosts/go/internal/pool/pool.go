// Package pool keeps the wasm engine instances that serve one snapshot: a Set of pre-warmed
// instances, each loaded with the same snapshot, handed out one caller at a time without a
// global lock.
//
// A caller Acquires a Slot (one compare-and-swap on the slot it used last, so a goroutine
// that evaluates many flags keeps meeting the instance that already holds its context),
// evaluates, and Releases it. When a new snapshot arrives the client builds a new Set off the
// hot path, publishes it, and Retires the old one: Retire waits until each old slot is idle
// and closes its instance, so linear memory that grew for an old snapshot is given back. An
// instance that traps is Discarded: its slot leaves service and a fresh instance is built and
// loaded in the background.
package pool

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vexil-flags/vexil/hosts/go/internal/wasmengine"
)

// Slot states.
const (
	stateFree     int32 = iota // idle, may be acquired
	stateBusy                  // held by one caller
	stateBuilding              // out of service: a replacement instance is being built
	stateDead                  // out of service: replacement failed
	stateRetired               // instance closed, the set is retired
)

// ErrRetired is returned by Acquire on a set that was retired: the caller should use the
// newer set.
var ErrRetired = errors.New("pool: set retired")

// ErrNoInstance is returned by Acquire when every instance of the set is out of service.
var ErrNoInstance = errors.New("pool: no usable engine instance (all discarded after traps, replacements failing)")

// Slot is one instance of a Set. Between Acquire and Release the holder owns In and
// ContextID; nobody else touches them.
type Slot struct {
	state atomic.Int32
	// In is the instance; replaced only while the slot is out of service.
	In *wasmengine.Instance
	// ContextID identifies the context last set in In (0: none), so a holder whose context is
	// already there skips SetContext.
	ContextID uint64

	set   *Set
	index int
	_     [64]byte // keep slots on separate cache lines: each is written on every acquire
}

// Set is the instances serving one snapshot.
type Set struct {
	mod      *wasmengine.Module
	snapshot []byte
	version  int64
	slots    []*Slot
	open     *atomic.Int64 // instances open, shared by every set of one client
	retired  atomic.Bool
	onError  func(error) // reports replacement failures; may be nil
}

// Config says how to build a Set.
type Config struct {
	Module *wasmengine.Module
	Size   int // number of instances; at least 1
	// Open counts the instances open across sets (for leak checks and metrics); may be nil.
	Open *atomic.Int64
	// OnError receives errors of background replacements; may be nil.
	OnError func(error)
}

// New instantiates cfg.Size instances and loads snapshot into each. Any failure closes what
// was built and returns the error (a *wasmengine.GuestError for a snapshot the engine
// refuses as a whole).
func New(ctx context.Context, cfg Config, snapshot []byte) (*Set, error) {
	if cfg.Size < 1 {
		cfg.Size = 1
	}
	open := cfg.Open
	if open == nil {
		open = new(atomic.Int64)
	}
	s := &Set{mod: cfg.Module, snapshot: snapshot, open: open, onError: cfg.OnError, version: -1}
	for i := 0; i < cfg.Size; i++ {
		in, v, err := s.build(ctx)
		if err != nil {
			for _, sl := range s.slots {
				s.close(sl.In)
			}
			return nil, err
		}
		s.version = v
		s.slots = append(s.slots, &Slot{In: in, set: s, index: i})
	}
	return s, nil
}

// build makes one instance loaded with the set's snapshot.
func (s *Set) build(ctx context.Context) (*wasmengine.Instance, int64, error) {
	in, err := s.mod.Instantiate(ctx)
	if err != nil {
		return nil, -1, err
	}
	s.open.Add(1)
	v, err := in.Load(s.snapshot)
	if err != nil {
		s.close(in)
		return nil, -1, err
	}
	return in, v, nil
}

func (s *Set) close(in *wasmengine.Instance) {
	if in != nil {
		_ = in.Close()
		s.open.Add(-1)
	}
}

// Version is the snapshot version the set serves.
func (s *Set) Version() int64 { return s.version }

// Size is the number of slots.
func (s *Set) Size() int { return len(s.slots) }

// Slot returns slot i, for callers that inspect a set (tests, the catalog builder) while no
// one else uses it.
func (s *Set) Slot(i int) *Slot { return s.slots[i] }

// Acquire hands out a free slot, trying slot prefer first (the one the caller used last).
// When every slot is busy it yields and tries again: slots are held for one evaluation only,
// so a wait is short. It returns ErrRetired on a retired set and ErrNoInstance when no slot
// is in service.
func (s *Set) Acquire(prefer int) (*Slot, error) {
	n := len(s.slots)
	if uint(prefer) >= uint(n) {
		prefer = 0
	}
	if sl := s.slots[prefer]; sl.state.CompareAndSwap(stateFree, stateBusy) {
		return sl, nil
	}
	for spins := 0; ; spins++ {
		inService := false
		for k := 1; k <= n; k++ {
			sl := s.slots[(prefer+k)%n]
			switch sl.state.Load() {
			case stateFree:
				if sl.state.CompareAndSwap(stateFree, stateBusy) {
					return sl, nil
				}
				inService = true
			case stateBusy, stateBuilding:
				inService = true
			case stateRetired:
				return nil, ErrRetired
			}
		}
		if !inService {
			return nil, ErrNoInstance
		}
		if spins < 64 {
			runtime.Gosched()
		} else {
			// Every instance is busy or being rebuilt (a rebuild takes milliseconds).
			time.Sleep(50 * time.Microsecond)
		}
	}
}

// Index is the slot's position in its set, to pass back to Acquire as prefer.
func (sl *Slot) Index() int { return sl.index }

// Release returns the slot to the set. The instance must not be broken: use Discard then.
func (sl *Slot) Release() { sl.state.Store(stateFree) }

// Discard takes a slot whose instance trapped out of service and builds a replacement in the
// background; the slot returns to service once the new instance has loaded the snapshot.
func (sl *Slot) Discard() {
	s := sl.set
	sl.state.Store(stateBuilding)
	go func() {
		s.close(sl.In)
		sl.In, sl.ContextID = nil, 0
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if s.retired.Load() {
				sl.state.Store(stateRetired)
				return
			}
			var in *wasmengine.Instance
			if in, _, err = s.build(context.Background()); err == nil {
				sl.In = in
				sl.state.Store(stateFree)
				return
			}
			time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
		}
		sl.state.Store(stateDead)
		if s.onError != nil {
			s.onError(fmt.Errorf("pool: replacing a trapped engine instance: %w", err))
		}
	}()
}

// Retire takes every slot out of service as soon as it is idle and closes its instance. It
// returns when all are closed. Callers that still hold the set get ErrRetired from Acquire.
func (s *Set) Retire() {
	s.retired.Store(true)
	for _, sl := range s.slots {
		for {
			st := sl.state.Load()
			if st == stateRetired {
				break
			}
			if (st == stateFree || st == stateDead) && sl.state.CompareAndSwap(st, stateRetired) {
				s.close(sl.In)
				sl.In = nil
				break
			}
			// Busy (the holder finishes one evaluation and releases) or building (the
			// replacement sees retired, or finishes and frees the slot).
			time.Sleep(100 * time.Microsecond)
		}
	}
}
