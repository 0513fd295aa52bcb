package secrets

// SetArchiveUnpackLimitForTest lowers the unpacked-bytes limit (tests make small bombs); it
// returns the function that restores it.
func SetArchiveUnpackLimitForTest(n int64) (restore func()) {
	old := maxArchiveUnpacked
	maxArchiveUnpacked = n
	return func() { maxArchiveUnpacked = old }
}

// SetArchiveMemberLimitForTest lowers the member-count limit; it returns the function that
// restores it.
func SetArchiveMemberLimitForTest(n int) (restore func()) {
	old := maxArchiveMembers
	maxArchiveMembers = n
	return func() { maxArchiveMembers = old }
}
