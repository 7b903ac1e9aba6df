package main

import (
	"fmt"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/sgxdbg/sgxdbg/dap"
	"github.com/sgxdbg/sgxdbg/debugger/target"
)

type dapOptions struct {
	listen      string
	allowRemote bool
	backend     string
	cpu         cpuOptions
}

func newDAPCmd() *cobra.Command {
	var o dapOptions
	cmd := &cobra.Command{
		Use:   "dap [--listen 127.0.0.1:PORT]",
		Short: "Serve the Debug Adapter Protocol (VS Code, nvim-dap)",
		Long: `dap speaks the Debug Adapter Protocol on stdin and stdout, or with
--listen on a TCP socket (loopback only, unless --allow-remote), serving
one client. The client's launch request starts the host ("program",
"args", "cwd", "env", "stopOn", "cpu"); AEXs stop as exceptions, with the
SSA frames and the synthetic registers as scopes, and the debug console
runs sgxdbg's command language (ssa, eresume, eenter-handler, teardown…).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDAP(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "", "serve one client on the TCP `address` (host:port) instead of stdin/stdout")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "let --listen use an address that is not loopback (a DAP client can run programs)")
	f.StringVar(&o.backend, "backend", "auto", "`auto` or emu: the emulator (no hardware backend yet; auto says so where /dev/sgx_enclave exists)")
	o.cpu.addFlags(f)
	return cmd
}

func runDAP(cmd *cobra.Command, o dapOptions) error {
	cfg := dap.Config{Backend: func(cpu string, images []string) (target.Backend, error) {
		co := o.cpu
		if cpu != "" {
			co.cpu = cpu
		}
		c, err := co.config(images)
		if err != nil {
			return target.Backend{}, err
		}
		return backendFor(o.backend, cmd.ErrOrStderr(), c)
	}}
	if o.listen == "" {
		return dap.NewServer(os.Stdin, os.Stdout, cfg).Serve()
	}
	if err := checkListen(o.listen, o.allowRemote); err != nil {
		return err
	}
	l, err := net.Listen("tcp", o.listen)
	if err != nil {
		return fmt.Errorf("dap: %w", err)
	}
	defer l.Close()
	fmt.Fprintf(cmd.ErrOrStderr(), "sgxdbg: DAP server listening at %s\n", l.Addr())
	conn, err := l.Accept()
	if err != nil {
		return fmt.Errorf("dap: accept: %w", err)
	}
	defer conn.Close()
	return dap.NewServer(conn, conn, cfg).Serve()
}

// checkListen refuses an address that is not loopback unless allowed.
func checkListen(addr string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", addr, err)
	}
	if allowRemote {
		return nil
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("--listen %s: not a loopback address (a DAP client can run programs as you; --allow-remote to listen there anyway)", addr)
	}
	return nil
}
