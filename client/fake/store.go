// Package fake is an in-memory stand-in for the apiserver in tests: a
// generic object store with resourceVersions, compare-and-swap updates,
// paged lists and resumable watches, served over real gRPC on 127.0.0.1.
// Tests inject objects and faults (failing calls, closed watches,
// compaction) through the Store.
package fake

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "github.com/tugboat-sh/tugboat/gen/tugboat/meta/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/labels"
)

// Object is an API object with metadata.
type Object interface {
	proto.Message
	GetMetadata() *metav1.ObjectMeta
}

// Watch event types.
const (
	Added    = "ADDED"
	Modified = "MODIFIED"
	Deleted  = "DELETED"
	Bookmark = "BOOKMARK"
)

// Operations a test can make fail with Fail.
const (
	OpCreate = "create"
	OpGet    = "get"
	OpList   = "list"
	OpWatch  = "watch"
	OpUpdate = "update"
	OpDelete = "delete"
)

type event[T Object] struct {
	typ string
	obj T
	rev int64
}

// Store holds objects of one kind. All methods are safe for concurrent use;
// objects going in and out are copies.
type Store[T Object] struct {
	mu        sync.Mutex
	rev       int64
	objs      map[string]T
	history   []event[T] // ascending rev, all > compacted
	compacted int64      // watches from a lower revision get OutOfRange
	changed   chan struct{}
	gen       int // bumped by CloseWatches
	bookmarks int
	fail      map[string]error
	lists     []*metav1.ListOptions
	watches   []*metav1.ListOptions
}

// NewStore returns an empty store at revision 1.
func NewStore[T Object]() *Store[T] {
	return &Store[T]{rev: 1, objs: map[string]T{}, changed: make(chan struct{}), fail: map[string]error{}}
}

func key(m *metav1.ObjectMeta) string {
	if m.GetNamespace() == "" {
		return m.GetName()
	}
	return m.GetNamespace() + "/" + m.GetName()
}

// Fail makes every later op (OpCreate, OpWatch, ...) fail with err; nil heals it.
func (s *Store[T]) Fail(op string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil {
		delete(s.fail, op)
	} else {
		s.fail[op] = err
	}
}

// Revision returns the current revision.
func (s *Store[T]) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

// record appends an event at a new revision and wakes watchers; s.mu held.
func (s *Store[T]) record(typ string, obj T) T {
	s.rev++
	obj.GetMetadata().ResourceVersion = strconv.FormatInt(s.rev, 10)
	s.history = append(s.history, event[T]{typ: typ, obj: proto.Clone(obj).(T), rev: s.rev})
	s.broadcast()
	return proto.Clone(obj).(T)
}

func (s *Store[T]) broadcast() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// Create stores obj at a new revision; AlreadyExists if its key is taken.
func (s *Store[T]) Create(obj T) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[OpCreate]; err != nil {
		return zero, err
	}
	obj = proto.Clone(obj).(T)
	m := obj.GetMetadata()
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.Name = fmt.Sprintf("%s%d", m.GetGenerateName(), s.rev+1)
	}
	if m.GetName() == "" {
		return zero, status.Error(codes.InvalidArgument, "metadata.name: Required value")
	}
	k := key(m)
	if _, ok := s.objs[k]; ok {
		return zero, status.Errorf(codes.AlreadyExists, "%q already exists", k)
	}
	m.Uid = fmt.Sprintf("uid-%d", s.rev+1)
	m.CreationTimestamp = timestamppb.New(time.Now())
	out := s.record(Added, obj)
	s.objs[k] = obj
	return out, nil
}

// Get returns the object namespace/name; NotFound if absent.
func (s *Store[T]) Get(namespace, name string) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[OpGet]; err != nil {
		return zero, err
	}
	o, ok := s.objs[key(&metav1.ObjectMeta{Namespace: namespace, Name: name})]
	if !ok {
		return zero, status.Errorf(codes.NotFound, "%s/%s not found", namespace, name)
	}
	return proto.Clone(o).(T), nil
}

// Update replaces an object. A non-empty resourceVersion must be the
// stored one (compare-and-swap), otherwise Aborted, like a 409 Conflict.
func (s *Store[T]) Update(obj T) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[OpUpdate]; err != nil {
		return zero, err
	}
	k := key(obj.GetMetadata())
	cur, ok := s.objs[k]
	if !ok {
		return zero, status.Errorf(codes.NotFound, "%q not found", k)
	}
	rv := obj.GetMetadata().GetResourceVersion()
	if rv != "" && rv != cur.GetMetadata().GetResourceVersion() {
		return zero, status.Errorf(codes.Aborted, "%q: the object has been modified (resourceVersion %s, stored %s)", k, rv, cur.GetMetadata().GetResourceVersion())
	}
	obj = proto.Clone(obj).(T)
	obj.GetMetadata().Uid = cur.GetMetadata().GetUid()
	obj.GetMetadata().CreationTimestamp = cur.GetMetadata().GetCreationTimestamp()
	out := s.record(Modified, obj)
	s.objs[k] = obj
	return out, nil
}

// Delete removes namespace/name; NotFound if absent.
func (s *Store[T]) Delete(namespace, name string) (T, error) {
	var zero T
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.fail[OpDelete]; err != nil {
		return zero, err
	}
	k := key(&metav1.ObjectMeta{Namespace: namespace, Name: name})
	cur, ok := s.objs[k]
	if !ok {
		return zero, status.Errorf(codes.NotFound, "%q not found", k)
	}
	delete(s.objs, k)
	return s.record(Deleted, cur), nil
}

// CloseWatches ends every open watch stream cleanly (after the events
// already due), as an apiserver does on its watch timeout.
func (s *Store[T]) CloseWatches() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.gen++
	s.broadcast()
}

// Compact forgets the history up to the current revision and closes every
// watch: later watches from an older resourceVersion get OutOfRange.
func (s *Store[T]) Compact() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.compacted = s.rev
	s.history = nil
	s.gen++
	s.broadcast()
}

// SendBookmark sends a BOOKMARK at the current revision to every watch
// that allowed bookmarks.
func (s *Store[T]) SendBookmark() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bookmarks++
	s.broadcast()
}

// ListRequests returns the options of every List call so far.
func (s *Store[T]) ListRequests() []*metav1.ListOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*metav1.ListOptions(nil), s.lists...)
}

// WatchRequests returns the options of every Watch call so far.
func (s *Store[T]) WatchRequests() []*metav1.ListOptions {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*metav1.ListOptions(nil), s.watches...)
}

// filter matches objects against a ListOptions' namespace, labels and
// fieldSelector metadata.name=x (the only field selector the fake knows).
type filter struct {
	namespace string
	name      string
	sel       labels.Selector
}

func newFilter(opts *metav1.ListOptions) (filter, error) {
	sel, err := labels.Parse(opts.GetLabelSelector())
	if err != nil {
		return filter{}, status.Errorf(codes.InvalidArgument, "labelSelector: %v", err)
	}
	f := filter{namespace: opts.GetNamespace(), sel: sel}
	if fs := opts.GetFieldSelector(); fs != "" {
		name, ok := strings.CutPrefix(fs, "metadata.name=")
		if !ok || strings.ContainsAny(name, ",=!") {
			return filter{}, status.Errorf(codes.InvalidArgument, "fieldSelector %q: only metadata.name=x is supported by the fake", fs)
		}
		f.name = name
	}
	return f, nil
}

func (f filter) match(m *metav1.ObjectMeta) bool {
	if f.namespace != "" && m.GetNamespace() != f.namespace {
		return false
	}
	if f.name != "" && m.GetName() != f.name {
		return false
	}
	return f.sel.Matches(labels.Set(m.GetLabels()))
}

// List returns the matching objects in key order, a page of opts.Limit
// when set, and the continue token of the next page. The revision is the
// current one (the fake does not keep snapshots for later pages).
func (s *Store[T]) List(opts *metav1.ListOptions) (items []T, meta *metav1.ListMeta, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lists = append(s.lists, proto.Clone(opts).(*metav1.ListOptions))
	if err := s.fail[OpList]; err != nil {
		return nil, nil, err
	}
	f, err := newFilter(opts)
	if err != nil {
		return nil, nil, err
	}
	keys := make([]string, 0, len(s.objs))
	for k, o := range s.objs {
		if k > opts.GetContinue() && f.match(o.GetMetadata()) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	meta = &metav1.ListMeta{ResourceVersion: strconv.FormatInt(s.rev, 10)}
	if l := int(opts.GetLimit()); l > 0 && len(keys) > l {
		keys = keys[:l]
		meta.Continue = keys[l-1]
	}
	for _, k := range keys {
		items = append(items, proto.Clone(s.objs[k]).(T))
	}
	return items, meta, nil
}

// Watch sends the events after opts.ResourceVersion, then live ones, until
// ctx ends, send fails or the watch is closed. An empty or "0"
// resourceVersion starts with an ADDED event per current object.
func (s *Store[T]) Watch(ctx context.Context, opts *metav1.ListOptions, send func(typ string, obj T) error) error {
	s.mu.Lock()
	s.watches = append(s.watches, proto.Clone(opts).(*metav1.ListOptions))
	if err := s.fail[OpWatch]; err != nil {
		s.mu.Unlock()
		return err
	}
	f, err := newFilter(opts)
	if err != nil {
		s.mu.Unlock()
		return err
	}
	var initial []T
	from := s.rev
	if rv := opts.GetResourceVersion(); rv != "" && rv != "0" {
		if from, err = strconv.ParseInt(rv, 10, 64); err != nil {
			s.mu.Unlock()
			return status.Errorf(codes.InvalidArgument, "resourceVersion %q: %v", rv, err)
		}
		if from < s.compacted {
			s.mu.Unlock()
			return status.Errorf(codes.OutOfRange, "too old resource version: %d (%d)", from, s.compacted)
		}
	} else {
		for _, o := range s.objs {
			if f.match(o.GetMetadata()) {
				initial = append(initial, proto.Clone(o).(T))
			}
		}
	}
	gen, bookmarks := s.gen, s.bookmarks
	s.mu.Unlock()

	for _, o := range initial {
		if err := send(Added, o); err != nil {
			return err
		}
	}
	for {
		s.mu.Lock()
		i := sort.Search(len(s.history), func(i int) bool { return s.history[i].rev > from })
		var due []event[T]
		for _, e := range s.history[i:] {
			if f.match(e.obj.GetMetadata()) {
				due = append(due, event[T]{typ: e.typ, obj: proto.Clone(e.obj).(T), rev: e.rev})
			}
		}
		if len(s.history) > 0 {
			from = max(from, s.history[len(s.history)-1].rev)
		}
		bookmark := s.bookmarks != bookmarks && opts.GetAllowWatchBookmarks()
		bookmarks = s.bookmarks
		rev, closed, changed := s.rev, s.gen != gen, s.changed
		s.mu.Unlock()

		for _, e := range due {
			if err := send(e.typ, e.obj); err != nil {
				return err
			}
		}
		if bookmark {
			if err := send(Bookmark, bookmarkObject[T](rev)); err != nil {
				return err
			}
		}
		if closed {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// bookmarkObject returns a T whose metadata carries only resourceVersion.
func bookmarkObject[T Object](rev int64) T {
	var zero T
	m := zero.ProtoReflect().Type().New()
	fd := m.Descriptor().Fields().ByName("metadata")
	meta := &metav1.ObjectMeta{ResourceVersion: strconv.FormatInt(rev, 10)}
	m.Set(fd, protoreflect.ValueOfMessage(meta.ProtoReflect()))
	return m.Interface().(T)
}
