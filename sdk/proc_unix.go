//go:build unix && !linux

package sdk

import (
	"os"
	"os/exec"
	"syscall"
)

// Outside Linux there is no parent-death signal: a plugin learns that its
// host went away from the end of its stdin lifeline (see serve.go).

func startAttached(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	return cmd.Start()
}

func startDetached(cmd *exec.Cmd) error {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setsid = true
	return cmd.Start()
}

func redirectStdoutToNull() error {
	f, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return syscall.Dup2(int(f.Fd()), 1)
}

func dupOnto(oldfd, newfd int) error { return syscall.Dup2(oldfd, newfd) }

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM
}
