package informer

// Handler receives the changes of an informer's cache, in order, from one
// goroutine. Objects are shared with the cache and must not be mutated.
// A relist after the watch expired reports vanished objects to OnDelete
// with their last known state.
type Handler[T any] interface {
	OnAdd(obj T)
	OnUpdate(oldObj, newObj T)
	OnDelete(obj T)
}

// HandlerFuncs adapts functions to Handler; nil functions are skipped.
type HandlerFuncs[T any] struct {
	AddFunc    func(obj T)
	UpdateFunc func(oldObj, newObj T)
	DeleteFunc func(obj T)
}

// OnAdd implements Handler.
func (h HandlerFuncs[T]) OnAdd(obj T) {
	if h.AddFunc != nil {
		h.AddFunc(obj)
	}
}

// OnUpdate implements Handler.
func (h HandlerFuncs[T]) OnUpdate(oldObj, newObj T) {
	if h.UpdateFunc != nil {
		h.UpdateFunc(oldObj, newObj)
	}
}

// OnDelete implements Handler.
func (h HandlerFuncs[T]) OnDelete(obj T) {
	if h.DeleteFunc != nil {
		h.DeleteFunc(obj)
	}
}
