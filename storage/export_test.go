package storage

// PendingCommits reports how many Commit calls wait behind the running
// batch, so that tests can line up a batch without sleeping.
func PendingCommits(s *Store) int {
	s.committer.mu.Lock()
	defer s.committer.mu.Unlock()
	return len(s.committer.queue)
}
