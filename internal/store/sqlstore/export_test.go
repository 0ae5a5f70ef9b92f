package sqlstore

// SetScanSizes sets the rows of a chunk and of a batch of the chunked
// ledger scan, for a test; the returned func restores them.
func SetScanSizes(chunk, batch int) (restore func()) {
	c, b := scanChunkRows, scanBatchRows
	scanChunkRows, scanBatchRows = chunk, batch
	return func() { scanChunkRows, scanBatchRows = c, b }
}

// WithoutOpenScan is s reading the ledger through database/sql only.
func WithoutOpenScan(s *DB) *DB {
	d := s.d
	d.OpenScan = nil
	return New(s.db, d, s.now)
}

// SetBeginHook has f run between the connections' beginnings, for a
// test; the returned func removes it.
func SetBeginHook(f func()) (restore func()) {
	beginHook = f
	return func() { beginHook = nil }
}
