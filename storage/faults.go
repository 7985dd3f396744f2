package storage

// Fault decides whether a write fails: it gets the operation ("update",
// "commit" or "drop") and the space, and returns the error to fail with, or
// nil to let the write through.
type Fault func(op, space string) error

// WithFaults wraps e so that writes fail as fault says, before they touch
// e: a full disk or a read-only file system, as tests need them. Reads pass
// through. A failed write writes nothing.
func WithFaults(e Engine, fault Fault) Engine { return &faultEngine{Engine: e, fault: fault} }

type faultEngine struct {
	Engine
	fault Fault
}

func (f *faultEngine) Update(space string, fn func(Tx) error) error {
	if err := f.fault("update", space); err != nil {
		return err
	}
	return f.Engine.Update(space, fn)
}

func (f *faultEngine) Commit(space string, fn func(Tx) error) error {
	if err := f.fault("commit", space); err != nil {
		return err
	}
	return f.Engine.Commit(space, fn)
}

func (f *faultEngine) DropSpace(space string) error {
	if err := f.fault("drop", space); err != nil {
		return err
	}
	return f.Engine.DropSpace(space)
}
