//go:build !unix

package sdk

import "io/fs"

// ownedByUs reports whether the file belongs to this process's user; outside
// Unix the folder's ACLs decide, so it is taken as ours.
func ownedByUs(fs.FileInfo) bool { return true }
