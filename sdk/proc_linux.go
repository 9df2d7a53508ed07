//go:build linux

package sdk

import (
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
)

// Plugin processes must not outlive the host, also when the host is killed
// with SIGKILL. On Linux the kernel sends the child SIGKILL when its parent
// dies (PR_SET_PDEATHSIG). The signal fires when the *thread* that forked the
// child exits, and the Go runtime ends a thread when a goroutine locked to it
// returns; so every plugin is forked from one goroutine that locks its thread
// and never returns.

var (
	spawnOnce sync.Once
	spawnReqs chan func()
)

// onSpawnThread runs f on the dedicated, never-exiting spawner thread.
func onSpawnThread(f func()) {
	spawnOnce.Do(func() {
		spawnReqs = make(chan func())
		go func() {
			runtime.LockOSThread()
			for f := range spawnReqs {
				f()
			}
		}()
	})
	done := make(chan struct{})
	spawnReqs <- func() {
		defer close(done)
		f()
	}
	<-done
}

// startAttached starts cmd as a plugin bound to this process's life.
func startAttached(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	// A process group of its own: the terminal's Ctrl-C reaches mm, which
	// cancels and closes its plugins, and never the plugins directly.
	cmd.SysProcAttr.Setpgid = true
	var err error
	onSpawnThread(func() { err = cmd.Start() })
	return err
}

// startDetached starts cmd in a session of its own, so that it survives the
// host and receives none of the terminal's signals.
func startDetached(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	cmd.SysProcAttr.Pdeathsig = 0
	return cmd.Start()
}

// redirectStdoutToNull points file descriptor 1 at /dev/null, so that a
// detached process whose starter went away never dies of SIGPIPE.
func redirectStdoutToNull() error {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return syscall.Dup3(int(f.Fd()), 1, 0)
}

// dupOnto makes newfd refer to what oldfd refers to.
func dupOnto(oldfd, newfd int) error { return syscall.Dup3(oldfd, newfd, 0) }

// processAlive reports whether pid names a live (non-zombie) process.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && err != syscall.EPERM {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the parenthesized command name: "pid (comm) S ...".
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] == ')' {
			if i+2 < len(b) {
				return b[i+2] != 'Z' && b[i+2] != 'X'
			}
			break
		}
	}
	return true
}
