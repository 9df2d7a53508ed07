//go:build !unix

package submit

// processAlive cannot tell on this platform; reservations then expire by
// Nonces.LeaseTTL only.
func processAlive(pid int) bool { return pid > 0 }
